using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Computers;

/// <summary>
/// The cold start's boot exchange, <c>POST /api/v0/boot</c>: the one call a computer started for its session makes before
/// it has a Host token, with the one-time boot ticket of its start (<c>RAWORC_BOOT_TICKET</c>) in the body. Not part of
/// the public API (no OpenAPI entry). See README, "How a computer gets its Host token".
/// </summary>
public static class BootApi
{
    /// <summary>Maps the route: anonymous (the ticket is the credential), reachable through the computer socket.</summary>
    public static IEndpointRouteBuilder MapBootApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/v0/boot", ExchangeAsync).AllowAnonymous()
            .WithMetadata(new Auth.BootRouteAttribute()).ExcludeFromDescription();
        return routes;
    }

    /// <summary>
    /// Spends the ticket and answers the start's <see cref="PoolHandover"/>: the Host token of the start the ticket was
    /// recorded for, and the seed files when <see cref="BootRequest.Seed"/>. One statement spends it: it matches the session,
    /// the ticket's hash, the start the hash was recorded for, <c>init</c> and a ready deadline still ahead, and clears the
    /// hash, so of two exchanges of one ticket (a replay from the session's code, say) exactly one succeeds. Every refusal is
    /// the same 403, whatever the reason, so the answer tells a guesser nothing. A request that does not come from a computer
    /// (the computer socket or <see cref="ComputerOptions.ComputerPort"/>) is a 404.
    /// </summary>
    internal static async Task<Results<Ok<PoolHandover>, NotFound<ErrorResponse>, JsonHttpResult<ErrorResponse>>> ExchangeAsync(BootRequest request,
        HttpContext context, RaworcDbContext db, Work.ComputerWork work, TimeProvider clock, CancellationToken cancellationToken)
    {
        // Only a computer calls it: on the API's own HTTP port the route does not exist, as the pool's claim does not.
        if (!context.IsFromComputer())
        {
            return ApiErrors.NotFound("Not found.");
        }
        var refused = ApiErrors.Forbidden("The boot ticket is not valid: already exchanged, past its computer's start deadline, or not of its session's current start.");
        if (!Guid.TryParse(request.SessionId, out var sessionId) || string.IsNullOrEmpty(request.Ticket) || request.Ticket.Length > BootTickets.MaxLength)
        {
            return refused;
        }
        var session = await db.Sessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == sessionId, cancellationToken);
        if (session?.BootTicketHash is null)
        {
            return refused;
        }
        var hash = BootTickets.Hash(request.Ticket);
        var start = session.ComputerStart;
        var now = clock.GetUtcNow();
        var spent = await db.Sessions
            .Where(s => s.Id == sessionId && s.BootTicketHash == hash && s.ComputerStart == start && s.State == SessionStates.Init && s.ReadyDeadlineAt > now)
            .ExecuteUpdateAsync(set => set.SetProperty(s => s.BootTicketHash, (byte[]?)null), cancellationToken);
        return spent == 1 ? TypedResults.Ok(work.BootHandover(session, start, request.Seed)) : refused;
    }
}

/// <summary>Boot tickets (<see cref="ComputerSpec.BootTicket"/>): made here, stored only as their hash.</summary>
internal static class BootTickets
{
    /// <summary>The longest ticket the exchange reads; a real one has 43 characters.</summary>
    public const int MaxLength = 64;

    /// <summary>A new ticket: 32 random bytes, base64url without padding (43 characters).</summary>
    public static string New() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>SHA-256 of the ticket's UTF-8 bytes: what the session row holds (<see cref="Session.BootTicketHash"/>).</summary>
    public static byte[] Hash(string ticket) => SHA256.HashData(Encoding.UTF8.GetBytes(ticket));
}
