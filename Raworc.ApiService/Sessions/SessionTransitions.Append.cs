using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Webhooks;

namespace Raworc.ApiService.Sessions;

public sealed partial class SessionTransitions
{
    /// <summary>
    /// True when <paramref name="message"/> can go in with <see cref="AppendInOneStatementAsync"/>: the event leaves the
    /// state as it is (a user's message to a busy or starting session, the Host's messages), so no <c>state</c> event, no
    /// work and no quota check belong to it; an idle session keeps its deadline, as <see cref="UpdateAsync"/> does.
    /// </summary>
    private static bool AppendsInOneStatement(Message? message, string observed, string next) =>
        message is not null && next == observed && observed is SessionStates.Idle or SessionStates.Busy or SessionStates.Init;

    /// <summary>
    /// Stores <paramref name="message"/> and touches its session in one statement, one round trip and one implicit
    /// transaction: the conditional update takes the session's row lock and the insert (which draws the sequence number)
    /// reads its output, so the number is drawn under the lock and committed before the lock is released — per session, in
    /// commit order, as in <see cref="ApplyAsync"/>. <c>created_at</c> is the later of this process's clock and the
    /// session's <c>last_activity_at</c> as the lock holder sees it (also its new value), so it never goes backwards
    /// within a session whoever's clock stamped the message before.
    /// </summary>
    /// <returns>
    /// The session after the statement; or null when nothing was written: the state is no longer <paramref name="observed"/>,
    /// the session is gone, or its owner has an enabled webhook for <c>session.message</c> (whose delivery must be written
    /// in the same transaction, which <see cref="ApplyAsync"/> does) — the caller then takes that path.
    /// </returns>
    private async Task<Session?> AppendInOneStatementAsync(Guid sessionId, string observed, Message message, CancellationToken cancellationToken)
    {
        var gate = AppendGates[(int)((uint)sessionId.GetHashCode() % (uint)AppendGates.Length)];
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await AppendInOneStatementUngatedAsync(sessionId, observed, message, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// One append at a time per session in this process (striped: 256 gates, a session's by its id's hash, so two sessions
    /// share one in 1 of 256 cases). Postgres serializes a session's appends on its row lock anyway; queued here, the
    /// waiting ones cost this process a semaphore's queue instead of Postgres a waiting backend each, which every commit
    /// woke to re-check the row.
    /// </summary>
    private static readonly SemaphoreSlim[] AppendGates = [.. Enumerable.Range(0, 256).Select(_ => new SemaphoreSlim(1, 1))];

    private async Task<Session?> AppendInOneStatementUngatedAsync(Guid sessionId, string observed, Message message, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var rows = await db.Sessions.FromSql(ResultColumns.Inline($"""
            WITH s AS (
                UPDATE sessions
                SET last_activity_at = GREATEST({now}, last_activity_at),
                    ready_deadline_at = CASE WHEN state = 'init' THEN ready_deadline_at END,
                    auto_close_at = CASE WHEN state = 'busy' THEN NULL ELSE auto_close_at END
                WHERE id = {sessionId} AND state = {observed}
                  AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.operator_id = sessions.created_by_operator_id
                                  AND w.enabled AND {WebhookEventTypes.Message} = ANY (w.event_types))
                RETURNING {ResultColumns.Of<Session>(db)}
            ), m AS (
                INSERT INTO messages (id, session_id, role, content, metadata, created_at, trace_parent, idempotency_key)
                SELECT {message.Id}, s.id, {message.Role}, {message.Content}, CAST({message.Metadata} AS jsonb), s.last_activity_at,
                       CAST({message.TraceParent} AS varchar(55)), CAST({message.IdempotencyKey} AS varchar(255))
                FROM s
            )
            SELECT * FROM s
            """)).AsNoTracking().ToListAsync(cancellationToken);
        if (rows is not [var session])
        {
            return null;
        }
        message.CreatedAt = session.LastActivityAt;
        return session;
    }
}
