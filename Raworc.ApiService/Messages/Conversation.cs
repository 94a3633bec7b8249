using System.Text.Json.Nodes;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Messages;

/// <summary>
/// The one way a message enters a session's history: the session's transition, the insert and the wake-up of long-polls
/// happen together (<see cref="SessionTransitions.ApplyAsync"/> commits the message with the state change and signals
/// after the commit), so no caller can store a message that waiters never hear of.
/// </summary>
public sealed class Conversation(SessionTransitions transitions, TimeProvider clock)
{
    /// <summary>Appends a message and applies <paramref name="event"/> in the same transaction.</summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="role">One of <see cref="MessageRoles"/>.</param>
    /// <param name="content">The text (already validated: at most <see cref="MessageLimits.MaxContentLength"/> characters).</param>
    /// <param name="metadata">Free-form object, or null for <c>{}</c>.</param>
    /// <param name="event">The state change the message brings: <see cref="SessionEvent.UserMessage"/> for a user's,
    /// <see cref="SessionEvent.Touch"/> for the Host's or a notice that changes no state, or another (a close with its reason).</param>
    /// <param name="byHost">The session's own Host sent it.</param>
    /// <param name="cancellationToken">Cancels the database work.</param>
    /// <param name="observedState">The session's state as the caller just read it, if it has (saves a read; see <see cref="SessionTransitions.ApplyAsync"/>).</param>
    /// <param name="idempotencyKey">The post's <c>Idempotency-Key</c>, stored with the message; a key the session's messages
    /// already hold fails the insert (unique violation, 23505) and stores nothing.</param>
    /// <returns>The transition's result and the message, which is stored only when the transition was applied.</returns>
    public async Task<(TransitionResult Result, Message Message)> AppendAsync(Guid sessionId, string role, string content, JsonObject? metadata,
        SessionEvent @event, bool byHost = false, CancellationToken cancellationToken = default, string? observedState = null,
        string? idempotencyKey = null)
    {
        var message = MessageFactory.Create(sessionId, role, content, metadata, clock.GetUtcNow());
        message.IdempotencyKey = idempotencyKey;
        var result = await transitions.ApplyAsync(sessionId, @event, byHost, message, cancellationToken: cancellationToken,
            observedState: observedState);
        return (result, message);
    }

    /// <summary>
    /// Appends a user's message from <paramref name="owner"/> (null: an admin) without reading the session first, when the
    /// session is that owner's and busy, starting or idle (<see cref="SessionTransitions.TryAppendUserMessageAsync"/>).
    /// </summary>
    /// <returns>The stored message, or null when nothing was stored (the caller then reads the session and takes
    /// <see cref="AppendAsync"/>, which answers every other case).</returns>
    public async Task<Message?> TryAppendUserMessageAsync(Guid sessionId, SessionOwner? owner, string content, JsonObject? metadata,
        CancellationToken cancellationToken)
    {
        var message = MessageFactory.Create(sessionId, MessageRoles.User, content, metadata, clock.GetUtcNow());
        return await transitions.TryAppendUserMessageAsync(sessionId, owner, message, cancellationToken) is null ? null : message;
    }
}
