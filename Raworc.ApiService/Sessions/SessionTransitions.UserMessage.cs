using Raworc.ApiService.Messages;

namespace Raworc.ApiService.Sessions;

public sealed partial class SessionTransitions
{
    /// <summary>The states a user's message leaves as they are (<see cref="SessionTransitionTable.Next"/>): busy and init.</summary>
    private static readonly string[] UnchangedByUserMessage =
        [.. SessionStates.All.Where(state => SessionTransitionTable.Next(state, SessionEvent.UserMessage, byHost: false) == state)];

    /// <summary>
    /// A user's message written without reading the session first: the caller's right rides in the statements' conditions
    /// (the session must be <paramref name="owner"/>'s, as <see cref="SessionAccess.Owns"/> decides, unless the owner is
    /// null for an admin), so a post to a busy or starting session costs one statement
    /// (<see cref="AppendInOneStatementAsync"/>, batched with the others waiting) and one to an idle session starts its
    /// turn (<see cref="StartTurnAsync"/>) — where <see cref="SessionAccess.FindAsync"/> and then <see cref="ApplyAsync"/>
    /// took one round trip more.
    /// </summary>
    /// <remarks>
    /// Nothing is written unless the caller may operate the session and the change is one of those two; every other case (a
    /// closed session to restore, someone else's or a published session, a webhook to feed, a session that is gone) writes
    /// nothing and returns null, and the caller takes the general path, which reads the session and answers as it always did
    /// (404, 403, 409, a restore). Those cases cost this attempt's round trips on top (one, then two for the turn's).
    /// </remarks>
    /// <param name="sessionId">The session (a UUID; a name needs its read).</param>
    /// <param name="owner">The caller as an owner (<see cref="SessionOwner.Of"/>), or null for an admin.</param>
    /// <param name="message">The user's message (role <c>user</c>, no idempotency key); stored only when this returns a session.</param>
    /// <param name="cancellationToken">Cancels the database work.</param>
    /// <returns>The session after the message, or null when nothing was written.</returns>
    public async Task<Session?> TryAppendUserMessageAsync(Guid sessionId, SessionOwner? owner, Message message, CancellationToken cancellationToken)
    {
        var appended = await AppendInOneStatementAsync(sessionId, observed: null, owner, message, cancellationToken)
            ?? await StartTurnAsync(sessionId, owner, message, cancellationToken);
        if (appended is null)
        {
            return null;
        }
        FollowInRedis(appended, queuedWork: false);
        presence.PublishMessage(sessionId);
        return appended;
    }

    /// <summary>
    /// The condition that a session row belongs to <paramref name="owner"/>, for <see cref="Data.ResultColumns.Inline"/> to
    /// write into a statement on <c>sessions</c>: <see cref="SessionOwner.Filter"/> in SQL — an operator by its row id
    /// (<c>created_by_operator_id</c>), a user by name and type on sessions no operator created — or <c>TRUE</c> for an
    /// admin (null).
    /// </summary>
    private static FormattableString OwnerCondition(SessionOwner? owner) => owner switch
    {
        null => $"TRUE",
        { OperatorId: { } operatorId } => $"created_by_operator_id = {operatorId}",
        _ => $"(created_by_operator_id IS NULL AND created_by = {owner.Name} AND created_by_type = {owner.Type})",
    };
}
