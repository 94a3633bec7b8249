using System.Text.Json.Nodes;
using Raworc.HostAgent.Api;
using Raworc.HostAgent.Turns;

namespace Raworc.Tests.HostAgent;

public sealed class HistoryWindowTests
{
    private const int Budget = 2_000;

    [Fact]
    public void ATailReadBackwardsGivesTheTurnWhatTheWholeHistoryWouldAndHoldsABoundedPart()
    {
        var all = Conversation(3_000);
        foreach (var end in new[] { 1, 7, 40, 400, 1_999, 3_000 })
        {
            var history = all.Take(end).ToList();
            var window = new HistoryWindow(Budget);
            while (!window.IsComplete)
            {
                // Pages of 50, newest first, ending before the oldest message held: what order=desc&before= returns.
                var before = window.OldestId is { } id ? history.FindIndex(m => m.Id == id) : history.Count;
                var page = history.Take(before).Reverse().Take(50).ToList();
                window.AddOlder(page, isOldest: page.Count < 50);
            }

            AssertSameTurn(history, window);
            Assert.InRange(window.Messages.Count, Math.Min(end, 1), 200);
        }
    }

    [Fact]
    public void AWindowKeptAcrossNewMessagesStaysEquivalentAndDoesNotGrow()
    {
        var all = Conversation(3_000);
        var window = new HistoryWindow(Budget);
        window.AddOlder([], isOldest: true);
        var most = 0;
        for (var i = 0; i < all.Count; i++)
        {
            window.AddNewer([all[i]]);
            most = Math.Max(most, window.Messages.Count);
            if (i % 7 == 0)
            {
                AssertSameTurn([.. all.Take(i + 1)], window);
            }
        }

        Assert.InRange(most, 1, 200);
    }

    private static void AssertSameTurn(List<SessionMessage> history, HistoryWindow window)
    {
        Assert.Equal(
            ConversationHistory.Build(history, Budget).Select(m => (m.Role, m.Text)),
            ConversationHistory.Build(window.Messages, Budget).Select(m => (m.Role, m.Text)));
        Assert.Equal(PendingMessages.Find(history).Select(m => m.Id), PendingMessages.Find(window.Messages).Select(m => m.Id));
    }

    // A chatty session: user messages (some arriving while a turn runs), tool messages, answers naming what they
    // answered, system notes; contents of 10 to 300 characters.
    private static List<SessionMessage> Conversation(int count)
    {
        var random = new Random(14);
        var messages = new List<SessionMessage>();
        string? lastUser = null;
        while (messages.Count < count)
        {
            var text = $"{messages.Count}:" + new string('x', random.Next(10, 300));
            var kind = random.Next(10);
            if (kind < 4 || lastUser is null)
            {
                var user = AgentHarness.User(text);
                messages.Add(user);
                lastUser = user.Id;
            }
            else if (kind < 6)
            {
                messages.Add(AgentHarness.Message(SessionMessage.HostRole, text, new JsonObject { ["type"] = MessageTypes.ToolExecution }));
            }
            else if (kind < 9)
            {
                // Sometimes a user message arrives during the turn, before its answer.
                if (kind == 8)
                {
                    messages.Add(AgentHarness.User("during " + text));
                }
                messages.Add(AgentHarness.Message(SessionMessage.HostRole, text,
                    new JsonObject { ["type"] = random.Next(5) == 0 ? MessageTypes.Error : MessageTypes.Response, [PendingMessages.ReplyTo] = lastUser }));
            }
            else
            {
                messages.Add(AgentHarness.Message(SessionMessage.SystemRole, text, null));
            }
        }
        return messages;
    }
}
