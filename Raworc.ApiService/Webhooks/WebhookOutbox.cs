using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Platform;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Webhooks;

/// <summary>
/// Writes webhook deliveries into the outbox (table <c>webhook_deliveries</c>) inside the transaction of the change that
/// causes the event, so a delivery exists exactly when its change committed. One call at each site that changes a
/// session: <see cref="SessionTransitions"/> (messages and state changes), <see cref="NewSessions"/> (creation and the
/// first prompt) and <see cref="SessionsApi.DeleteSessionsAsync"/> (deletion). An event goes to every enabled webhook of
/// the session's owning operator that lists its type; a session a token user owns has none. With no such webhook the
/// cost is one indexed query; a message that changes no state makes that check inside its one statement instead
/// (<c>SessionTransitions.Append.cs</c>) and comes here only when a webhook wants it.
/// </summary>
/// <remarks>
/// The payload is the body sent, built here once: <c>{"id","type","created_at","session_id","data"}</c> with the same
/// JSON as the REST bodies (<see cref="MessageResponse"/>, <see cref="SessionResponse"/>), which carry no secret, no
/// instructions, no setup and no token.
/// </remarks>
public static class WebhookOutbox
{
    private static readonly JsonSerializerOptions Json = CreateJsonOptions();

    /// <summary>
    /// Records the events of a saved change of session <paramref name="sessionId"/>: <paramref name="message"/> (when
    /// stored) as <c>session.message</c>, then, when the state changed, <paramref name="changedTo"/> (the session as the
    /// change left it, which the caller has already read) as <c>session.state</c>. Call inside the change's transaction,
    /// after it was saved; saves what it adds.
    /// </summary>
    public static async Task RecordWebhookEventsAsync(this RaworcDbContext db, Guid sessionId, Session? changedTo, Message? message,
        CancellationToken cancellationToken)
    {
        if (message is null && changedTo is null)
        {
            return;
        }
        var owner = db.Sessions.Where(s => s.Id == sessionId).Select(s => s.CreatedByOperatorId);
        var hooks = await db.Webhooks.AsNoTracking().Where(w => w.Enabled && owner.Contains(w.OperatorId))
            .Select(w => new Subscriber(w.Id, w.EventTypes)).ToListAsync(cancellationToken);
        if (hooks.Count == 0)
        {
            return;
        }
        if (message is not null)
        {
            Add(db, hooks, WebhookEventTypes.Message, sessionId, message.CreatedAt, JsonSerializer.SerializeToNode(MessageResponse.From(message), Json));
        }
        if (changedTo is not null && hooks.Any(h => h.EventTypes.Contains(WebhookEventTypes.State)))
        {
            Add(db, hooks, WebhookEventTypes.State, sessionId, changedTo.LastActivityAt, JsonSerializer.SerializeToNode(SessionResponse.From(changedTo), Json));
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// Records <c>session.deleted</c> for each of <paramref name="ids"/>; call inside the deleting transaction, before the
    /// rows go (their owners are read from them). Saves what it adds.
    /// </summary>
    public static async Task RecordWebhookDeletionsAsync(this RaworcDbContext db, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        // The rows' locks first, as a transition takes them, so that no message of these sessions can be written after
        // their deletion event: per session, outbox ids follow the order of commits.
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM sessions WHERE id = ANY({ids.ToArray()}) ORDER BY id FOR UPDATE", cancellationToken);
        var targets = await db.Sessions.AsNoTracking().Where(s => ids.Contains(s.Id))
            .Join(db.Webhooks.Where(w => w.Enabled && w.EventTypes.Contains(WebhookEventTypes.Deleted)),
                s => s.CreatedByOperatorId, w => (Guid?)w.OperatorId, (s, w) => new { SessionId = s.Id, w.Id })
            .ToListAsync(cancellationToken);
        if (targets.Count == 0)
        {
            return;
        }
        var now = DateTimeOffset.UtcNow;
        foreach (var session in targets.GroupBy(t => t.SessionId))
        {
            Add(db, [.. session.Select(t => new Subscriber(t.Id, [WebhookEventTypes.Deleted]))], WebhookEventTypes.Deleted, session.Key, now,
                new JsonObject { ["session_id"] = session.Key.ToString() });
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    private static void Add(RaworcDbContext db, List<Subscriber> hooks, string type, Guid sessionId, DateTimeOffset at, JsonNode? data)
    {
        var eventId = Guid.CreateVersion7(at);
        var payload = JsonSerializer.Serialize(new WebhookEvent(eventId, type, at, sessionId, data), Json);
        foreach (var hook in hooks.Where(h => h.EventTypes.Contains(type)))
        {
            db.WebhookDeliveries.Add(new WebhookDelivery
            {
                WebhookId = hook.Id, EventId = eventId, EventType = type, SessionId = sessionId, Payload = payload,
                CreatedAt = at, NextAttemptAt = at,
            });
        }
    }

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        JsonConventions.Apply(options);
        return options;
    }

    private sealed record Subscriber(Guid Id, string[] EventTypes);
}

/// <summary>The body of every delivery.</summary>
/// <param name="Id">The event's id: the same on every retry and for every webhook, for de-duplication.</param>
/// <param name="Type">One of <see cref="WebhookEventTypes"/>.</param>
/// <param name="CreatedAt">When the event happened (UTC).</param>
/// <param name="SessionId">The session it is about.</param>
/// <param name="Data">The message object, the session object after the change, or <c>{"session_id"}</c>.</param>
public sealed record WebhookEvent(Guid Id, string Type, DateTimeOffset CreatedAt, Guid SessionId, JsonNode? Data);
