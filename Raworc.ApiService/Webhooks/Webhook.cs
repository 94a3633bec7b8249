namespace Raworc.ApiService.Webhooks;

/// <summary>
/// An endpoint an operator registered for its sessions' events (table <c>webhooks</c>). Deleted with its operator.
/// </summary>
public sealed class Webhook
{
    /// <summary>UUID (version 7).</summary>
    public Guid Id { get; set; }

    /// <summary>The owning operator's row id: the webhook receives the events of the sessions this operator created.</summary>
    public Guid OperatorId { get; set; }

    /// <summary>Absolute <c>http</c> or <c>https</c> URL, at most <see cref="WebhookRules.MaxUrlLength"/> characters.</summary>
    public required string Url { get; set; }

    /// <summary>The event types it receives, a subset of <see cref="WebhookEventTypes.All"/>.</summary>
    public string[] EventTypes { get; set; } = [];

    /// <summary>The signing secret, encrypted with Data Protection (<see cref="WebhookSecrets"/>); shown once, at creation.</summary>
    public required string ProtectedSecret { get; set; }

    /// <summary>False when its owner switched it off or it kept failing; a disabled webhook gets no new deliveries.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Why it was disabled by the platform (null when enabled or switched off by its owner).</summary>
    public string? DisabledReason { get; set; }

    /// <summary>When it was last disabled (UTC).</summary>
    public DateTimeOffset? DisabledAt { get; set; }

    /// <summary>Deliveries that failed one after another (each after its immediate retries) since the last success.</summary>
    public int ConsecutiveFailures { get; set; }

    /// <summary>The first failure since the last success (UTC); null while healthy.</summary>
    public DateTimeOffset? FailingSince { get; set; }

    /// <summary>Creation time (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Last change by its owner or the platform (UTC).</summary>
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// One event for one webhook, in the outbox (table <c>webhook_deliveries</c>): written in the transaction of the change
/// that caused the event, sent by <see cref="WebhookDispatcher"/>. Pending while <see cref="DeliveredAt"/> is null.
/// No key to the session: the deliveries of a deleted session are still sent.
/// </summary>
public sealed class WebhookDelivery
{
    /// <summary>Increasing id: the order of events.</summary>
    public long Id { get; set; }

    /// <summary>The webhook (its deliveries are deleted with it).</summary>
    public Guid WebhookId { get; set; }

    /// <summary>The event's id (wire <c>id</c>): the same for every webhook the event goes to, so receivers can de-duplicate.</summary>
    public Guid EventId { get; set; }

    /// <summary>One of <see cref="WebhookEventTypes"/>.</summary>
    public required string EventType { get; set; }

    /// <summary>The session the event is about.</summary>
    public Guid SessionId { get; set; }

    /// <summary>The exact request body (JSON), signed and sent as is on every attempt.</summary>
    public required string Payload { get; set; }

    /// <summary>When the event happened (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>HTTP attempts so far.</summary>
    public int Attempts { get; set; }

    /// <summary>Rounds (an attempt and its immediate retries) that failed so far: the exponent of the backoff.</summary>
    public int FailedRounds { get; set; }

    /// <summary>Not to be tried before this time (UTC): the retry schedule, kept across restarts.</summary>
    public DateTimeOffset NextAttemptAt { get; set; }

    /// <summary>While a dispatcher holds it: when its lease ends (UTC); another replica may take it after that.</summary>
    public DateTimeOffset? LeaseExpiresAt { get; set; }

    /// <summary>When the receiver answered 2xx (UTC); null while pending.</summary>
    public DateTimeOffset? DeliveredAt { get; set; }

    /// <summary>Status code of the last attempt, if the receiver answered.</summary>
    public int? LastStatusCode { get; set; }

    /// <summary>Why the last attempt failed (no exception text: a short reason).</summary>
    public string? LastError { get; set; }
}

/// <summary>One HTTP attempt of a delivery (table <c>webhook_attempts</c>), shown by <c>GET /webhooks/{id}/deliveries</c>.</summary>
public sealed class WebhookAttempt
{
    /// <summary>Increasing id.</summary>
    public long Id { get; set; }

    /// <summary>The delivery (attempts are deleted with it).</summary>
    public long DeliveryId { get; set; }

    /// <summary>When the request started (UTC).</summary>
    public DateTimeOffset AttemptedAt { get; set; }

    /// <summary>From the request's start to the response's headers or the failure, milliseconds.</summary>
    public int DurationMs { get; set; }

    /// <summary>The receiver's status code; null when it did not answer.</summary>
    public int? StatusCode { get; set; }

    /// <summary>Null for a 2xx; else a short reason (<c>HTTP 500</c>, <c>timed out</c>, <c>connection refused</c>, …).</summary>
    public string? Error { get; set; }
}

/// <summary>The event types on the wire (field <c>type</c>, header <c>Raworc-Event-Type</c>).</summary>
public static class WebhookEventTypes
{
    /// <summary>A message was stored (user, host — tool activity included — or system); <c>data</c> is the message object.</summary>
    public const string Message = "session.message";
    /// <summary>The session's state changed (creation included); <c>data</c> is the session object after the change.</summary>
    public const string State = "session.state";
    /// <summary>The session was deleted; <c>data</c> is <c>{"session_id"}</c>.</summary>
    public const string Deleted = "session.deleted";

    /// <summary>Every type, in the order a webhook lists them.</summary>
    public static readonly string[] All = [Message, State, Deleted];
}

/// <summary>Limits of webhook fields.</summary>
public static class WebhookRules
{
    /// <summary>Longest URL, characters.</summary>
    public const int MaxUrlLength = 2048;

    /// <summary>Most webhooks one operator may have.</summary>
    public const int MaxPerOperator = 20;
}
