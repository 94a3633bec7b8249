using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Raworc.ApiService.Messages;

/// <summary>A message on the wire.</summary>
/// <param name="Id">Message UUID.</param>
/// <param name="SessionId">Its session.</param>
/// <param name="Role"><c>user</c>, <c>host</c> or <c>system</c>.</param>
/// <param name="Content">Text.</param>
/// <param name="Metadata">JSON object (<c>{}</c> when none).</param>
/// <param name="CreatedAt">Arrival (UTC).</param>
/// <param name="TraceParent">
/// Only in the session's Host's reads, and only for a user message that was traced: the W3C <c>traceparent</c> of the
/// request that posted it (55 characters). The Host sends it as its own <c>traceparent</c> header on the calls of the
/// turn that answers the message, which puts the turn in that request's trace. Left out everywhere else.
/// </param>
public sealed record MessageResponse(Guid Id, Guid SessionId, string Role, string Content, JsonNode? Metadata, DateTimeOffset CreatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceParent = null)
{
    /// <summary>The wire shape of a stored message.</summary>
    public static MessageResponse From(Message m) => new(m.Id, m.SessionId, m.Role, m.Content, JsonNode.Parse(m.Metadata), m.CreatedAt);

    /// <summary>The wire shape of a stored message as its session's Host reads it: with <see cref="TraceParent"/> on user messages.</summary>
    public static MessageResponse ForHost(Message m) => From(m) with { TraceParent = m.Role == MessageRoles.User ? m.TraceParent : null };
}

/// <summary>Body of <c>POST /sessions/{id}/messages</c>.</summary>
/// <param name="Content">1…100,000 characters.</param>
/// <param name="Metadata">Optional JSON object, at most 64 KiB.</param>
/// <param name="Role">
/// Optional, for clients written for Raworc 0.3.5 (its CLI sends <c>"role":"user"</c>): when given it must be the role the
/// caller's token gives the message anyway, <c>user</c> for operators and users and <c>host</c> for the session's Host
/// (else 422); the body never chooses the role.
/// </param>
public sealed record PostMessageRequest(string? Content, JsonObject? Metadata, string? Role = null);

/// <summary>Body of <c>GET /sessions/{id}/messages/count</c>.</summary>
/// <param name="Count">Number of messages of the session.</param>
public sealed record MessageCountResponse(int Count);

/// <summary>Builds message rows.</summary>
public static class MessageFactory
{
    // Characters past ASCII go to jsonb as themselves, not as \u escapes: on a database whose encoding is not UTF8
    // (SQL_ASCII, as initdb makes under the C locale) jsonb refuses such an escape (0A000), which answered a host message
    // holding U+FFFD (the agent's stand-in for U+0000) with 503. Text columns take the same characters unescaped already.
    private static readonly JsonSerializerOptions StoredJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A new message (its sequence number is assigned by the database on insert), carrying the current trace's context.</summary>
    public static Message Create(Guid sessionId, string role, string content, JsonObject? metadata, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(),
        SessionId = sessionId,
        Role = role,
        Content = content,
        Metadata = (metadata ?? []).ToJsonString(StoredJson),
        CreatedAt = now,
        TraceParent = Platform.Telemetry.CurrentTraceParent(),
    };
}
