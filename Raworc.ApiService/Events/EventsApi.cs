using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Events;

/// <summary>
/// <c>GET /api/v0/sessions/{id}/events</c>: a session's messages and state changes as server-sent events, resumable by
/// id (the wire is described in README "Live events").
/// </summary>
public static class EventsApi
{
    /// <summary>The request header a reconnecting client sends its last event id in (wins over <c>?after=</c>).</summary>
    public const string LastEventIdHeader = "Last-Event-ID";

    /// <summary>Maps the endpoint.</summary>
    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v0/sessions/{id}/events", StreamAsync).WithTags("Sessions").RequireAuthorization()
            .WithName("StreamSessionEvents").ProducesErrors(ErrorMetadata.Authenticated)
            .WithSummary("Stream a session's events")
            .WithDescription("""
                Server-sent events (text/event-stream): `message` (a message as in GET …/messages), `state` (the session as
                in GET /sessions/{id} after a state change), `screen` (live only: after a host message whose metadata.tool is
                `computer`) and `deleted` (then the stream ends); a `: heartbeat` comment every 15 s. Each event's `id` is
                resumable: send the last one back as `Last-Event-ID` (or `?after=`) to get every later event exactly once.
                Without either the stream starts with the events after now.
                """);
        return routes;
    }

    /// <summary>
    /// Starts the stream: 400 <c>BAD_REQUEST</c> for an id that is not a non-negative integer, 404 <c>NOT_FOUND</c> for a
    /// session that does not exist or that the caller may not read (owner, admin, its Host, anyone when published). The
    /// stream of a caller who reads it only because it is published ends when the session is unpublished.
    /// </summary>
    public static async Task<Results<ServerSentEventsResult<object>, BadRequest<ErrorResponse>, NotFound<ErrorResponse>>> StreamAsync(
        string id, string? after, [FromHeader(Name = LastEventIdHeader)] string? lastEventId, ClaimsPrincipal caller,
        RaworcDbContext db, EventStream stream, HttpResponse response, CancellationToken cancellationToken)
    {
        var resume = lastEventId ?? after;
        long? position = null;
        if (resume is not null)
        {
            if (!long.TryParse(resume, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return ApiErrors.BadRequest($"{LastEventIdHeader} (or after) must be an event id of this stream.");
            }
            position = parsed;
        }
        var session = await db.FindAsync(id, caller, SessionRight.Read, cancellationToken);
        // Without a resume id, "now" is the newest event stored: a change still in flight commits with a later position
        // (positions are drawn under the session's row lock), so it is not missed.
        var start = position ?? await db.Database.SqlQuery<long>($"""
            SELECT GREATEST(
                (SELECT COALESCE(MAX(seq), 0) FROM messages WHERE session_id = {session.Id}),
                (SELECT COALESCE(MAX(seq), 0) FROM state_changes WHERE session_id = {session.Id})) AS "Value"
            """).SingleAsync(cancellationToken);

        response.Headers.CacheControl = "no-cache";
        // Tells a buffering reverse proxy (nginx) to pass each event on at once.
        response.Headers["X-Accel-Buffering"] = "no";
        var whilePublished = !caller.MayReadUnpublished(session);
        return TypedResults.ServerSentEvents(stream.ReadAsync(session.Id, start, live: position is null, whilePublished, response, cancellationToken));
    }
}

/// <summary>The <c>data</c> of a <c>screen</c> event.</summary>
/// <param name="SessionId">The session.</param>
/// <param name="At">When the host message that changed the screen was stored (UTC).</param>
public sealed record ScreenEventData(Guid SessionId, DateTimeOffset At);

/// <summary>The <c>data</c> of a <c>deleted</c> event.</summary>
/// <param name="SessionId">The deleted session.</param>
public sealed record DeletedEventData(Guid SessionId);
