using Microsoft.EntityFrameworkCore;

namespace Raworc.ApiService.Sessions;

public sealed partial class SessionTransitions
{
    /// <summary>
    /// True for the Host's <c>POST /busy</c> to a session that is already busy: its heartbeat, or the start of a turn that a
    /// user's message began (the message moved the session idle → busy). Such an event changes no state, writes no message,
    /// queues no work and has no webhook event, so <see cref="BeatInOneStatementAsync"/> applies it.
    /// </summary>
    private static bool BeatsInOneStatement(Messages.Message? message, SessionEvent @event, string observed) =>
        message is null && @event == SessionEvent.Busy && observed == SessionStates.Busy;

    /// <summary>
    /// The busy → busy update of <see cref="UpdateAsync"/> (<c>last_activity_at</c> now, no ready or idle deadline) as one
    /// statement committed on its own, returning the session as it left it: one round trip instead of a transaction's
    /// update, commit and read back.
    /// </summary>
    /// <returns>The session after the update, or null when it is no longer busy (or gone): the caller then takes the general path.</returns>
    private async Task<Session?> BeatInOneStatementAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var rows = await db.Sessions.FromSql(ResultColumns.Inline($"""
            WITH s AS (
                UPDATE sessions SET last_activity_at = {now}, ready_deadline_at = NULL, auto_close_at = NULL
                WHERE id = {sessionId} AND state = {SessionStates.Busy}
                RETURNING {ResultColumns.Of<Session>(db)}
            )
            SELECT * FROM s
            """)).AsNoTracking().ToListAsync(cancellationToken);
        return rows is [var session] ? session : null;
    }
}
