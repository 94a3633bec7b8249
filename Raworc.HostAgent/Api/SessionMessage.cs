using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Raworc.HostAgent.Api;

/// <summary>
/// A message as the API returns it (spec/API.md, Messages): <c>{"id","session_id","role","content","metadata","created_at"}</c>.
/// </summary>
/// <param name="Id">The message id (a UUID string).</param>
/// <param name="SessionId">The session's id.</param>
/// <param name="Role"><c>user</c>, <c>host</c> or <c>system</c>.</param>
/// <param name="Content">The text, 1…100,000 characters.</param>
/// <param name="Metadata">A JSON object or null; host messages carry <c>type</c> (<c>response</c>, <c>error</c>, <c>tool_execution</c>).</param>
/// <param name="CreatedAt">Arrival time (UTC).</param>
/// <param name="TraceParent">
/// On user messages, when the API traced their request: its W3C <c>traceparent</c> (only the session's Host gets it). The
/// turn that answers the message sends it on its calls (<see cref="TurnTrace"/>).
/// </param>
public sealed record SessionMessage(string Id, string SessionId, string Role, string Content, JsonObject? Metadata, DateTimeOffset CreatedAt,
    string? TraceParent = null)
{
    /// <summary>The role of the user's messages.</summary>
    public const string UserRole = "user";

    /// <summary>The role of the agent's messages.</summary>
    public const string HostRole = "host";

    /// <summary>The role of platform notes.</summary>
    public const string SystemRole = "system";

    /// <summary><c>metadata.type</c> when it is a string, else null.</summary>
    [JsonIgnore]
    public string? Type => Metadata?["type"] is JsonValue value && value.TryGetValue<string>(out var type) ? type : null;

    /// <summary>Whether this is a host message that ends a turn (<c>metadata.type</c> <c>response</c> or <c>error</c>).</summary>
    [JsonIgnore]
    public bool EndsTurn => Role == HostRole && Type is MessageTypes.Response or MessageTypes.Error;
}
