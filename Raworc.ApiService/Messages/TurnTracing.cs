using System.Diagnostics;
using Raworc.ApiService.Platform;

namespace Raworc.ApiService.Messages;

/// <summary>
/// Ties the Host's turns to the requests that started them. The agent in a computer exports no telemetry (it has no
/// collector to reach), so the API does it: a user message keeps the <c>traceparent</c> of the request that stored it
/// (<see cref="Message.TraceParent"/>), and the Host's request that fetches user messages — the start of its turn — gets a
/// span link to each of their traces, tagged with the session.
/// </summary>
public static class TurnTracing
{
    /// <summary>Most links one request gets (a Host catching up on a long history links to the newest of them).</summary>
    public const int MaxLinks = 16;

    /// <summary>Links the current request's span to the traces of the user messages in <paramref name="messages"/>.</summary>
    public static void LinkToUserMessages(Guid sessionId, IReadOnlyList<Message> messages)
    {
        if (Activity.Current is not { Recorded: true } activity)
        {
            return;
        }
        var linked = 0;
        for (var i = messages.Count - 1; i >= 0 && linked < MaxLinks; i--)
        {
            var message = messages[i];
            if (message.Role == MessageRoles.User && ActivityContext.TryParse(message.TraceParent, null, out var origin))
            {
                activity.AddLink(new ActivityLink(origin, new ActivityTagsCollection { ["raworc.message_id"] = message.Id.ToString() }));
                linked++;
            }
        }
        if (linked > 0)
        {
            activity.SetTag(Telemetry.SessionTag, sessionId.ToString());
        }
    }
}
