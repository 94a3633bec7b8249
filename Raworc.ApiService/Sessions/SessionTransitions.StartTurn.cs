using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Webhooks;

namespace Raworc.ApiService.Sessions;

public sealed partial class SessionTransitions
{
    /// <summary>
    /// True for a user's message to an idle session (idle → busy: the message starts a turn), which
    /// <see cref="StartTurnAsync"/> writes in three round trips. No work and no quota belong to this change.
    /// </summary>
    private static bool StartsTurn(Message? message, SessionEvent @event, string observed, string next) =>
        message is not null && @event == SessionEvent.UserMessage && observed == SessionStates.Idle && next == SessionStates.Busy;

    /// <summary>
    /// idle → busy with the user's message, as the general path of <see cref="ApplyAsync"/> writes it (the state update,
    /// the message, then its <c>state</c> event, one transaction) in three round trips instead of six: the conditional
    /// update returns the session as it left it (no read back) and checks in the same statement that the owner has no
    /// enabled webhook for <c>session.message</c> or <c>session.state</c> (no webhook read); both inserts go in one command,
    /// the message first, so the message's sequence number precedes its state change's, both drawn under the row lock.
    /// </summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="owner">Whom the session must belong to, or null (as in <see cref="AppendInOneStatementAsync"/>).</param>
    /// <param name="message">The user's message.</param>
    /// <param name="cancellationToken">Cancels the database work.</param>
    /// <returns>
    /// The session after the change; or null when nothing was written: the session is no longer idle, is gone or not
    /// <paramref name="owner"/>'s, or its owner has such a webhook (whose deliveries the general path writes) — the caller then takes that path.
    /// </returns>
    private async Task<Session?> StartTurnAsync(Guid sessionId, SessionOwner? owner, Message message, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var rows = await db.Sessions.FromSql(ResultColumns.Inline($"""
            WITH s AS (
                UPDATE sessions
                SET state = {SessionStates.Busy}, last_activity_at = GREATEST({now}, last_activity_at), ready_deadline_at = NULL, auto_close_at = NULL
                WHERE id = {sessionId} AND state = {SessionStates.Idle}
                  AND {OwnerCondition(owner)}
                  AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.operator_id = sessions.created_by_operator_id AND w.enabled
                                  AND ({WebhookEventTypes.Message} = ANY (w.event_types) OR {WebhookEventTypes.State} = ANY (w.event_types)))
                RETURNING {ResultColumns.Of<Session>(db)}
            )
            SELECT * FROM s
            """)).AsNoTracking().ToListAsync(cancellationToken);
        if (rows is not [var session])
        {
            await transaction.RollbackAsync(cancellationToken);
            return null;
        }
        // The session's new last_activity_at, as in the one-statement append: a message queued behind this one on the row
        // lock is stamped with at least this, so created_at follows seq within the session.
        message.CreatedAt = session.LastActivityAt;
        var change = JsonSerializer.Serialize(SessionResponse.From(session), json.Value.SerializerOptions);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO messages (id, session_id, role, content, metadata, created_at, trace_parent, idempotency_key)
            VALUES ({message.Id}, {sessionId}, {message.Role}, {message.Content}, CAST({message.Metadata} AS jsonb), {message.CreatedAt},
                    CAST({message.TraceParent} AS varchar(55)), CAST({message.IdempotencyKey} AS varchar(255)));
            INSERT INTO state_changes (session_id, state, session, created_at)
            VALUES ({sessionId}, {SessionStates.Busy}, {change}, {clock.GetUtcNow()});
            """, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return session;
    }
}
