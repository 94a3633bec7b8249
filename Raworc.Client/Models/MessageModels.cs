using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Raworc.Client.Models;

/// <summary>Message roles of the contract.</summary>
public static class MessageRoles
{
    /// <summary>Written by an operator or user.</summary>
    public const string User = "user";
    /// <summary>Written by the session's Host: tool activity, answers, errors.</summary>
    public const string Host = "host";
    /// <summary>Written by the platform.</summary>
    public const string System = "system";
}

/// <summary>A message of a session's conversation.</summary>
/// <param name="Id">Message UUID.</param>
/// <param name="SessionId">Its session.</param>
/// <param name="Role">One of <see cref="MessageRoles"/>.</param>
/// <param name="Content">Text. A tool activity message holds a headline (<c>$ command</c> for bash) and then the output.</param>
/// <param name="Metadata">
/// JSON object. Host messages carry <c>type</c>: <c>tool_execution</c> (with <c>tool</c>, <c>arguments</c>,
/// <c>duration_ms</c>, <c>exit_code</c>), <c>response</c> (the answer) or <c>error</c> (a turn that ended without one).
/// </param>
/// <param name="CreatedAt">Arrival (UTC).</param>
public sealed record Message(Guid Id, Guid SessionId, string Role, string Content, JsonNode? Metadata, DateTimeOffset CreatedAt)
{
    /// <summary><c>metadata.type</c> when it is a string (<c>tool_execution</c>, <c>response</c>, <c>error</c>), else null.</summary>
    [JsonIgnore]
    public string? Type => MetadataString("type");

    /// <summary>A string field of <see cref="Metadata"/>, or null.</summary>
    /// <param name="name">Field name, e.g. <c>tool</c>.</param>
    public string? MetadataString(string name) =>
        Metadata is JsonObject o && o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>A whole-number field of <see cref="Metadata"/> (<c>exit_code</c>, <c>duration_ms</c>), or null.</summary>
    /// <param name="name">Field name.</param>
    public long? MetadataNumber(string name) =>
        Metadata is JsonObject o && o[name] is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;
}

/// <summary>Body of <c>POST /sessions/{id}/messages</c>.</summary>
/// <param name="Content">1…100,000 characters.</param>
/// <param name="Metadata">Optional JSON object.</param>
internal sealed record PostMessageBody(string Content, JsonObject? Metadata);

/// <summary>Body of <c>GET /sessions/{id}/messages/count</c>.</summary>
/// <param name="Count">Number of messages.</param>
internal sealed record MessageCount(int Count);
