using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Raworc.ApiService.Messages;

/// <summary>A message on the wire.</summary>
/// <param name="Id">Message UUID.</param>
/// <param name="SessionId">Its session.</param>
/// <param name="Role"><c>user</c>, <c>host</c> or <c>system</c>.</param>
/// <param name="Content">Text.</param>
/// <param name="Metadata">JSON object (<c>{}</c> when none).</param>
/// <param name="CreatedAt">Arrival (UTC).</param>
public sealed record MessageResponse(Guid Id, Guid SessionId, string Role, string Content, JsonNode? Metadata, DateTimeOffset CreatedAt)
{
    /// <summary>The wire shape of a stored message.</summary>
    public static MessageResponse From(Message m) => new(m.Id, m.SessionId, m.Role, m.Content, JsonNode.Parse(m.Metadata), m.CreatedAt);
}

/// <summary>Body of <c>POST /sessions/{id}/messages</c>.</summary>
/// <param name="Content">1…100,000 characters.</param>
/// <param name="Metadata">Optional JSON object, at most 64 KiB.</param>
public sealed record PostMessageRequest(string? Content, JsonObject? Metadata);

/// <summary>Body of <c>GET /sessions/{id}/messages/count</c>.</summary>
/// <param name="Count">Number of messages of the session.</param>
public sealed record MessageCountResponse(int Count);

/// <summary>Builds message rows.</summary>
public static class MessageFactory
{
    /// <summary>A new message (its sequence number is assigned by the database on insert), carrying the current trace's context.</summary>
    public static Message Create(Guid sessionId, string role, string content, JsonObject? metadata, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(),
        SessionId = sessionId,
        Role = role,
        Content = content,
        Metadata = (metadata ?? []).ToJsonString(),
        CreatedAt = now,
        TraceParent = Activity.Current is { IdFormat: ActivityIdFormat.W3C, Recorded: true } activity ? activity.Id : null,
    };
}
