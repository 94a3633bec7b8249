using Microsoft.EntityFrameworkCore;

namespace Raworc.ApiService.Messages;

/// <summary>Which user messages still wait for the Host, decided from the history as the Host decides it.</summary>
public static class UnansweredMessages
{
    /// <summary>
    /// True when a user message of the session is newer than everything the Host has answered. A host message with
    /// <c>metadata.type</c> <c>response</c> or <c>error</c> answers the user messages up to the one its
    /// <c>metadata.reply_to</c> names, or, without that field, every message before it (the agent's own rule,
    /// <c>Raworc.HostAgent.Turns.PendingMessages</c>).
    /// </summary>
    public static Task<bool> HasUnansweredUserMessagesAsync(this RaworcDbContext db, Guid sessionId, CancellationToken cancellationToken) =>
        db.Database.SqlQuery<bool>($"""
            SELECT EXISTS (
                SELECT 1 FROM messages u
                WHERE u.session_id = {sessionId} AND u.role = 'user'
                  AND u.seq > COALESCE((
                      SELECT MAX(COALESCE(r.seq, h.seq))
                      FROM messages h
                      LEFT JOIN messages r ON r.session_id = h.session_id AND r.id::text = h.metadata->>'reply_to'
                      WHERE h.session_id = {sessionId} AND h.role = 'host' AND h.metadata->>'type' IN ('response', 'error')), -1)
            ) AS "Value"
            """).SingleAsync(cancellationToken);
}
