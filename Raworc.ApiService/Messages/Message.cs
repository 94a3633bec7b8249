namespace Raworc.ApiService.Messages;

/// <summary>One message of a session's history (table <c>messages</c>).</summary>
public sealed class Message
{
    /// <summary>UUID of the message.</summary>
    public Guid Id { get; set; }

    /// <summary>Database-wide sequence number: strictly increasing in arrival order, never tied.</summary>
    public long Seq { get; set; }

    /// <summary>The session it belongs to (deleted with it).</summary>
    public Guid SessionId { get; set; }

    /// <summary><c>user</c>, <c>host</c> or <c>system</c>.</summary>
    public required string Role { get; set; }

    /// <summary>Text, 1…100,000 characters.</summary>
    public required string Content { get; set; }

    /// <summary>JSON object (jsonb).</summary>
    public string Metadata { get; set; } = "{}";

    /// <summary>Arrival time (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>
    /// The W3C <c>traceparent</c> of the request that stored it (at most 55 characters), or null when it was not traced:
    /// the Host's request that fetches a user message links its span to this trace (<see cref="TurnTracing"/>). Never on the wire.
    /// </summary>
    public string? TraceParent { get; set; }

    /// <summary>
    /// The <c>Idempotency-Key</c> of the post that stored it (1…255 visible ASCII characters), unique within the session; null
    /// when the post sent none. A later post with the same key answers this message (<see cref="IdempotencyKeys"/>). Never on the wire.
    /// </summary>
    public string? IdempotencyKey { get; set; }
}

/// <summary>Message roles.</summary>
public static class MessageRoles
{
    /// <summary>From an operator or user.</summary>
    public const string User = "user";
    /// <summary>From the session's Host agent.</summary>
    public const string Host = "host";
    /// <summary>From the platform (setup failures, errors).</summary>
    public const string System = "system";
}
