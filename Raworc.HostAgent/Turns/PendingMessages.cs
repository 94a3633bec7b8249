using Raworc.HostAgent.Api;

namespace Raworc.HostAgent.Turns;

/// <summary>
/// Decides from the history alone which user messages still need a turn, so that a restarted agent answers exactly
/// those. A host message with <c>metadata.type</c> <c>response</c> or <c>error</c> answers the user messages up to the
/// one named by its <c>metadata.reply_to</c>, or, without that field, every user message before it.
/// </summary>
public static class PendingMessages
{
    /// <summary>The metadata field naming the newest user message a turn saw.</summary>
    public const string ReplyTo = "reply_to";

    /// <summary>The unanswered user messages, oldest first.</summary>
    /// <param name="history">The whole session, oldest first.</param>
    public static IReadOnlyList<SessionMessage> Find(IReadOnlyList<SessionMessage> history)
    {
        var answeredThrough = -1;
        var indexById = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < history.Count; i++)
        {
            var message = history[i];
            indexById[message.Id] = i;
            if (!message.EndsTurn)
            {
                continue;
            }

            // A message that arrived while the turn ran came before the answer but was not seen by the model.
            var through = message.Metadata?[ReplyTo]?.ToString() is { } id && indexById.TryGetValue(id, out var index) ? index : i;
            answeredThrough = Math.Max(answeredThrough, through);
        }

        return [.. history.Skip(answeredThrough + 1).Where(m => m.Role == SessionMessage.UserRole)];
    }
}
