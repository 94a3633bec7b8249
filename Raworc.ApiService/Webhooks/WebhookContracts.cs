namespace Raworc.ApiService.Webhooks;

/// <summary>A webhook on the wire; its secret is never part of it (see <see cref="CreatedWebhookResponse"/>).</summary>
/// <param name="Id">UUID.</param>
/// <param name="Url">Where deliveries are posted.</param>
/// <param name="EventTypes">Types it receives (<c>session.message</c>, <c>session.state</c>, <c>session.deleted</c>).</param>
/// <param name="Enabled">False when switched off by its owner or disabled by the platform.</param>
/// <param name="DisabledReason">Why the platform disabled it (null otherwise).</param>
/// <param name="DisabledAt">When it was disabled (UTC).</param>
/// <param name="ConsecutiveFailures">Failed deliveries in a row since the last success.</param>
/// <param name="FailingSince">First failure since the last success (UTC), null while healthy.</param>
/// <param name="CreatedAt">Creation (UTC).</param>
/// <param name="UpdatedAt">Last change (UTC).</param>
public sealed record WebhookResponse(Guid Id, string Url, string[] EventTypes, bool Enabled, string? DisabledReason,
    DateTimeOffset? DisabledAt, int ConsecutiveFailures, DateTimeOffset? FailingSince, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    /// <summary>The wire shape of a loaded webhook.</summary>
    public static WebhookResponse From(Webhook w) => new(w.Id, w.Url, w.EventTypes, w.Enabled, w.DisabledReason, w.DisabledAt,
        w.ConsecutiveFailures, w.FailingSince, w.CreatedAt, w.UpdatedAt);
}

/// <summary>The answer to <c>POST /webhooks</c>: the webhook and, this once only, its signing secret.</summary>
/// <param name="Id">UUID.</param>
/// <param name="Url">Where deliveries are posted.</param>
/// <param name="EventTypes">Types it receives.</param>
/// <param name="Enabled">Whether it receives events.</param>
/// <param name="CreatedAt">Creation (UTC).</param>
/// <param name="Secret"><c>whsec_…</c>: the HMAC-SHA256 key of <c>Raworc-Signature</c>. Not retrievable later.</param>
public sealed record CreatedWebhookResponse(Guid Id, string Url, string[] EventTypes, bool Enabled, DateTimeOffset CreatedAt, string Secret);

/// <summary>Body of <c>POST /webhooks</c>.</summary>
/// <param name="Url">Absolute http(s) URL, at most 2048 characters, not a private target (see README "Webhooks").</param>
/// <param name="EventTypes">Types to receive; absent means all three.</param>
/// <param name="Enabled">Default true.</param>
public sealed record CreateWebhookRequest(string? Url, string[]? EventTypes, bool? Enabled);

/// <summary>Body of <c>PATCH</c>/<c>PUT /webhooks/{id}</c>: at least one field. Enabling clears the failure record and makes pending deliveries due now.</summary>
/// <param name="Url">New URL.</param>
/// <param name="EventTypes">New types (non-empty).</param>
/// <param name="Enabled">Switch it on or off.</param>
public sealed record UpdateWebhookRequest(string? Url, string[]? EventTypes, bool? Enabled);

/// <summary>One event's delivery to a webhook, with its attempts.</summary>
/// <param name="Id">Delivery id (increasing).</param>
/// <param name="EventId">The payload's <c>id</c>.</param>
/// <param name="EventType">The payload's <c>type</c>.</param>
/// <param name="SessionId">The session.</param>
/// <param name="Status"><c>pending</c> or <c>delivered</c>.</param>
/// <param name="CreatedAt">When the event happened (UTC).</param>
/// <param name="DeliveredAt">When the receiver answered 2xx (UTC).</param>
/// <param name="NextAttemptAt">While pending: not tried before this time (UTC).</param>
/// <param name="Attempts">Every HTTP attempt, oldest first.</param>
public sealed record WebhookDeliveryResponse(long Id, Guid EventId, string EventType, Guid SessionId, string Status,
    DateTimeOffset CreatedAt, DateTimeOffset? DeliveredAt, DateTimeOffset? NextAttemptAt, List<WebhookAttemptResponse> Attempts);

/// <summary>One HTTP attempt of a delivery.</summary>
/// <param name="AttemptedAt">When it started (UTC).</param>
/// <param name="DurationMs">Until the response's headers or the failure, milliseconds.</param>
/// <param name="StatusCode">The receiver's status; null when it did not answer.</param>
/// <param name="Error">Null for 2xx; else a short reason (<c>HTTP 500</c>, <c>connection refused</c>, <c>timed out after 10 s</c>, …).</param>
public sealed record WebhookAttemptResponse(DateTimeOffset AttemptedAt, int DurationMs, int? StatusCode, string? Error);
