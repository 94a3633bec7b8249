using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Raworc.HostAgent.Api;

/// <summary>The body of <c>POST /api/v0/sessions/{id}/messages</c>: <c>{"content","metadata"}</c>; posted by the Host token it becomes a <c>host</c> message.</summary>
/// <param name="Content">The text, 1…100,000 characters, secrets already redacted.</param>
/// <param name="Metadata">A JSON object; <c>type</c> is one of <see cref="MessageTypes"/>.</param>
public sealed record NewMessage(string Content, JsonObject Metadata)
{
    /// <summary><c>metadata.type</c> as a string.</summary>
    [JsonIgnore]
    public string? Type => Metadata["type"]?.GetValue<string>();

    /// <summary>
    /// Sent as the <c>Idempotency-Key</c> header with every post of this message (a new GUID per message): a post repeated
    /// after its answer was lost then stores nothing twice.
    /// </summary>
    [JsonIgnore]
    public string IdempotencyKey { get; init; } = Guid.NewGuid().ToString();
}
