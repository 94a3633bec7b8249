using Raworc.HostAgent.Api;

namespace Raworc.HostAgent.Turns;

/// <summary>
/// The tail of a session's history that the agent keeps in memory, oldest first: enough for a turn to send the model
/// exactly what it would send from the whole history, and no more. The window is <see cref="IsComplete"/> when it
/// holds the session's first message, or when (a) its replayed conversation (<see cref="ConversationHistory.ChatChars"/>)
/// exceeds the history budget, so anything older would be trimmed from the model's view anyway, and (b) it holds the
/// newest turn-ending message together with the message its <c>reply_to</c> names, so that
/// <see cref="PendingMessages"/> decides from it what is unanswered. To bound memory whatever the history holds (say,
/// thousands of tool messages and little conversation), reading also stops once <see cref="ReadLimitChars"/> characters
/// of content are held; the model then sees less than the budget.
/// </summary>
/// <param name="budgetChars">The turn's history budget in characters (<see cref="TurnOptions.HistoryBudgetChars"/>).</param>
public sealed class HistoryWindow(int budgetChars)
{
    private readonly List<SessionMessage> _messages = [];
    private bool _holdsStart;

    /// <summary>The messages held, oldest first.</summary>
    public IReadOnlyList<SessionMessage> Messages => _messages;

    /// <summary>The most characters of content (all messages, tool output included) read into the window: four budgets.</summary>
    public long ReadLimitChars => budgetChars * 4L;

    /// <summary>The id of the oldest message held, or null when empty.</summary>
    public string? OldestId => _messages.Count == 0 ? null : _messages[0].Id;

    /// <summary>The id of the newest message held, or null when empty.</summary>
    public string? NewestId => _messages.Count == 0 ? null : _messages[^1].Id;

    /// <summary>Whether older messages would change nothing a turn decides or sends (see the type's summary).</summary>
    public bool IsComplete => _holdsStart || TotalChars() >= ReadLimitChars || KeepFrom() >= 0;

    /// <summary>Adds a page read backwards, <b>newest first</b> (as <c>order=desc</c> returns it), before the messages held.</summary>
    /// <param name="newestFirst">The page.</param>
    /// <param name="isOldest">True when nothing older exists (the page ended short and was not cut by size).</param>
    public void AddOlder(IReadOnlyList<SessionMessage> newestFirst, bool isOldest)
    {
        _messages.InsertRange(0, newestFirst.Reverse());
        _holdsStart |= isOldest;
    }

    /// <summary>Adds messages newer than those held, oldest first, then drops what became too old to matter.</summary>
    public void AddNewer(IEnumerable<SessionMessage> oldestFirst)
    {
        _messages.AddRange(oldestFirst);
        var keepFrom = KeepFrom();
        if (keepFrom > 0)
        {
            _messages.RemoveRange(0, keepFrom);
            _holdsStart = false;
        }
    }

    /// <summary>
    /// The largest index from which the held messages alone decide the turn, or -1 when none does yet. From there on
    /// the replayed conversation exceeds the budget, the newest turn-ending message and the message its <c>reply_to</c>
    /// names are held, and so is every message that a held answer's <c>reply_to</c> names: the model's history is
    /// ordered by those (<see cref="ConversationHistory"/>), so only then is the window an exact tail of that order.
    /// Past the read limit the bound on characters wins over the budget.
    /// </summary>
    private int KeepFrom()
    {
        var indexById = new Dictionary<string, int>(_messages.Count, StringComparer.Ordinal);
        for (var i = 0; i < _messages.Count; i++)
        {
            indexById[_messages[i].Id] = i;
        }

        int? anchor = null;
        var required = int.MaxValue;
        long chat = 0, total = 0;
        for (var i = _messages.Count - 1; i >= 0; i--)
        {
            var message = _messages[i];
            if (message.EndsTurn)
            {
                var target = message.Metadata?[PendingMessages.ReplyTo]?.ToString() is { } replyTo
                    ? indexById.GetValueOrDefault(replyTo, -1)
                    : i;
                if (target < 0)
                {
                    return -1;
                }
                anchor ??= target;
                required = Math.Min(required, target);
            }

            chat += ConversationHistory.ChatChars(message);
            total += message.Content.Length;
            if (anchor is { } through && i <= through && i <= required && (chat > budgetChars || total >= ReadLimitChars))
            {
                return i;
            }
        }
        return -1;
    }

    private long TotalChars() => _messages.Sum(m => (long)m.Content.Length);
}
