using Microsoft.Extensions.AI;
using Raworc.HostAgent.Api;

namespace Raworc.HostAgent.Turns;

/// <summary>
/// Turns a session's stored messages into the chat history the model reads: user messages as user turns,
/// host answers as assistant turns, system notes as user turns marked <c>[system]</c>; tool-execution and error
/// messages are not replayed. The result is trimmed from the oldest end to a character budget.
/// </summary>
public static class ConversationHistory
{
    /// <summary>Builds the history, oldest first.</summary>
    /// <param name="messages">The whole session, oldest first.</param>
    /// <param name="budgetChars">The most characters of content kept. The newest message is always kept (its head cut when it alone is too long).</param>
    public static IReadOnlyList<ChatMessage> Build(IEnumerable<SessionMessage> messages, int budgetChars)
    {
        var chat = InReplyOrder([.. messages]).Select(ToChat).OfType<ChatMessage>().ToList();
        var total = chat.Sum(message => message.Text.Length);
        var first = 0;
        while (first < chat.Count - 1 && total > budgetChars)
        {
            total -= chat[first].Text.Length;
            first++;
        }

        // Providers expect the conversation to open with the user.
        while (first < chat.Count - 1 && chat[first].Role != ChatRole.User)
        {
            first++;
        }

        var kept = chat.Skip(first).ToList();
        if (kept.Count == 1 && kept[0].Text.Length > budgetChars)
        {
            var text = kept[0].Text;
            kept[0] = new ChatMessage(kept[0].Role, "[…earlier text cut…]\n" + text[^Math.Max(1, budgetChars)..]);
        }

        return kept;
    }

    // An answer is stored after user messages that arrived while its turn ran; the model must see it right after
    // the newest message it answered (metadata.reply_to), before those later ones.
    private static IEnumerable<SessionMessage> InReplyOrder(IReadOnlyList<SessionMessage> messages)
    {
        var indexById = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < messages.Count; i++)
        {
            indexById[messages[i].Id] = i;
        }

        return messages
            .Select((message, index) => (message, index, key: message.EndsTurn
                && message.Metadata?[PendingMessages.ReplyTo]?.ToString() is { } replyTo
                && indexById.TryGetValue(replyTo, out var target) && target < index ? target + 0.5 : index))
            .OrderBy(entry => entry.key)
            .ThenBy(entry => entry.index)
            .Select(entry => entry.message);
    }

    /// <summary>
    /// How many characters of <paramref name="message"/> count against the budget of <see cref="Build"/>: its content
    /// (with the <c>[system] </c> mark for system notes) if it is replayed to the model, else 0.
    /// </summary>
    public static int ChatChars(SessionMessage message) => ToChat(message)?.Text.Length ?? 0;

    private static ChatMessage? ToChat(SessionMessage message) => message.Role switch
    {
        SessionMessage.UserRole => new ChatMessage(ChatRole.User, message.Content),
        SessionMessage.SystemRole => new ChatMessage(ChatRole.User, "[system] " + message.Content),
        SessionMessage.HostRole when message.Type is null or MessageTypes.Response => new ChatMessage(ChatRole.Assistant, message.Content),
        _ => null,
    };
}
