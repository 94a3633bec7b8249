using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Auth;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Computers;

/// <summary>
/// The warm pool's claim route, <c>GET /api/v0/pool/claim?wait=</c>: the one endpoint a pooled computer's agent may call,
/// with its pool token (see <see cref="PoolRouteAttribute"/>). Not part of the public API (no OpenAPI entry).
/// </summary>
public static class WarmPoolApi
{
    /// <summary>The longest <c>wait</c>, in seconds.</summary>
    public const int MaxWaitSeconds = 30;

    /// <summary>Maps the claim route.</summary>
    public static IEndpointRouteBuilder MapWarmPoolApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v0/pool/claim", ClaimAsync).RequireAuthorization()
            .WithMetadata(new PoolRouteAttribute()).ExcludeFromDescription();
        return routes;
    }

    /// <summary>
    /// Waits up to <c>wait</c> seconds (0…30, default 30) for a session to claim the calling computer. 200 with the
    /// <see cref="PoolHandover"/> once the session (in <c>init</c>, on its first computer) holds the computer's reserved id —
    /// again on a retry until the agent reports ready, so a lost answer is not fatal, and never for a later start (restore); 204 when the time is up unclaimed (poll again); 404
    /// when the computer is neither pooled nor handed to an <c>init</c> session (replaced, or already taken over). A claim
    /// made on this replica is handed to the wait in memory (<see cref="WarmPoolHandoffs"/>: answered with no read); one
    /// made on another wakes it through the session's message channel, and the route then reads it.
    /// </summary>
    internal static async Task<Results<Ok<PoolHandover>, NoContent, NotFound<ErrorResponse>>> ClaimAsync(int? wait, ClaimsPrincipal caller,
        RaworcDbContext db, MessageSignals signals, WarmPoolHandoffs handoffs, Work.ComputerWork work, IHostApplicationLifetime lifetime,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        if (wait is < 0 or > MaxWaitSeconds)
        {
            throw new ApiException(400, $"wait must be between 0 and {MaxWaitSeconds} seconds.");
        }
        if (caller.Type() != PrincipalTypes.Pool || !Guid.TryParse(caller.FindFirstValue(RaworcClaims.PoolId), out var id))
        {
            throw new ApiException(404, "Not found.");
        }
        using var waiter = signals.Register(id);
        using var handoff = handoffs.Register(id);
        if (await ClaimedAsync(db, id, cancellationToken) is { } session)
        {
            return TypedResults.Ok(work.Handover(session));
        }
        // Not claimed: still pooled? From the first call on, claims prefer this computer (its agent is waiting).
        var now = clock.GetUtcNow();
        if (await db.WarmComputers.Where(w => w.Id == id).ExecuteUpdateAsync(set => set.SetProperty(w => w.ReadyAt, w => w.ReadyAt ?? now), cancellationToken) == 0)
        {
            // Claimed between the two queries, or removed from the pool.
            return await ClaimedAsync(db, id, cancellationToken) is { } claimed
                ? TypedResults.Ok(work.Handover(claimed))
                : TypedResults.NotFound(ApiErrors.Body(404, "This computer is not in the warm pool."));
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        timeout.CancelAfter(TimeSpan.FromSeconds(wait ?? MaxWaitSeconds));
        await Task.WhenAny(waiter.Signalled, handoff.Claimed).WaitAsync(timeout.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        cancellationToken.ThrowIfCancellationRequested();
        if (handoff.Claimed.IsCompletedSuccessfully)
        {
            return TypedResults.Ok(work.Handover(await handoff.Claimed));
        }
        return await ClaimedAsync(db, id, cancellationToken) is { } late ? TypedResults.Ok(work.Handover(late)) : TypedResults.NoContent();
    }

    private static Task<Session?> ClaimedAsync(RaworcDbContext db, Guid id, CancellationToken cancellationToken) =>
        db.Sessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id && s.State == SessionStates.Init && s.ComputerStart == 0, cancellationToken);
}
