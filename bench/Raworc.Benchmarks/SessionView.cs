using System.Text.Json.Nodes;

namespace Raworc.Benchmarks;

/// <summary>The fields of a session object the benchmarks read (timestamps are the API's, UTC).</summary>
internal sealed record SessionView(
    Guid Id,
    string State,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? ClosedAt,
    DateTimeOffset? AutoCloseAt,
    int TimeoutSeconds,
    string? Error)
{
    public static SessionView From(JsonObject session) => new(
        Guid.Parse((string)session["id"]!),
        (string)session["state"]!,
        Time(session["created_at"]) ?? throw new InvalidOperationException("A session without created_at."),
        Time(session["started_at"]),
        Time(session["closed_at"]),
        Time(session["auto_close_at"]),
        (int)session["timeout_seconds"]!,
        (string?)session["error"]);

    public static DateTimeOffset? Time(JsonNode? node) => node is null ? null : DateTimeOffset.Parse((string)node!, System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A stored message, as far as the benchmarks need it.</summary>
internal sealed record MessageView(Guid Id, string Role, string? Type, DateTimeOffset CreatedAt, string? Content)
{
    public static MessageView From(JsonNode message) => new(
        Guid.Parse((string)message["id"]!),
        (string)message["role"]!,
        (string?)message["metadata"]?["type"],
        SessionView.Time(message["created_at"])!.Value,
        message["content"] is JsonValue content && content.TryGetValue<string>(out var text) ? text : null);

    /// <summary>The agent's final answer of a turn (the Host agent's <c>MessageTypes.Response</c>).</summary>
    public bool IsAnswer => Role == "host" && Type == "response";

    /// <summary>A turn the agent ended without an answer (<c>MessageTypes.Error</c>); its content says why, e.g. an unreachable model.</summary>
    public bool IsTurnError => Role == "host" && Type == "error";
}
