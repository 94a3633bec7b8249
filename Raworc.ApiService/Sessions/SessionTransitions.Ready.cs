using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Webhooks;

namespace Raworc.ApiService.Sessions;

public sealed partial class SessionTransitions
{
    /// <summary>
    /// The Host's ready report of a session in <c>init</c> with no user message waiting (init → idle), as the general path
    /// of <see cref="ApplyAsync"/> writes it (the state update with <c>started_at</c>, the idle deadline and no ready
    /// deadline, then its <c>state</c> event, one transaction), in three round trips instead of six: the conditional
    /// update checks in the same statement that no user message waits (which would make the report init → busy) and
    /// that the owner has no enabled webhook for <c>session.state</c> (whose delivery the general path writes), and
    /// returns the session as it left it (no read back). Redis follows after the commit, as on the general path. Its SET list
    /// repeats <c>UpdateAsync</c>'s idle case: a change there is a change here (the test
    /// <c>SessionLifecycleTests.AFirstReadyReportWritesTheSameSessionAndStateEventOnTheShortPathAsOnTheGeneralOne</c> compares what
    /// both paths write).
    /// </summary>
    /// <param name="sessionId">The session whose Host reports ready.</param>
    /// <param name="cancellationToken">Cancels the database work.</param>
    /// <returns>
    /// The session after the change; or null when nothing was written: it is no longer <c>init</c>, is gone, a user message
    /// waits, or its owner has such a webhook — the caller then takes the general path, which decides.
    /// </returns>
    public async Task<Session?> TryReadyAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var rows = await db.Sessions.FromSql(ResultColumns.Inline($"""
            WITH s AS (
                UPDATE sessions
                SET state = {SessionStates.Idle}, last_activity_at = {now}, ready_deadline_at = NULL,
                    auto_close_at = {now} + make_interval(secs => timeout_seconds), started_at = COALESCE(started_at, {now}),
                    first_ready_at = COALESCE(first_ready_at, {now})
                WHERE id = {sessionId} AND state = {SessionStates.Init}
                  AND NOT EXISTS (SELECT 1 FROM messages u WHERE u.session_id = {sessionId} AND u.role = {Messages.MessageRoles.User})
                  AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.operator_id = sessions.created_by_operator_id AND w.enabled
                                  AND {WebhookEventTypes.State} = ANY (w.event_types))
                RETURNING {ResultColumns.Of<Session>(db)}
            )
            SELECT * FROM s
            """)).AsNoTracking().ToListAsync(cancellationToken);
        if (rows is not [var session])
        {
            await transaction.RollbackAsync(cancellationToken);
            return null;
        }
        var change = JsonSerializer.Serialize(SessionResponse.From(session), json.Value.SerializerOptions);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO state_changes (session_id, state, session, created_at)
            VALUES ({sessionId}, {SessionStates.Idle}, {change}, {clock.GetUtcNow()})
            """, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        FollowInRedis(session, queuedWork: false);
        presence.PublishStateChange(sessionId);
        return session;
    }
}
