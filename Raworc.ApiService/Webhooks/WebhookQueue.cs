using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Raworc.ApiService.Webhooks;

/// <summary>
/// Claims due deliveries and records what their rounds did. A claim commits a lease at once (no transaction is held
/// while the receiver is called); two dispatchers never hold one delivery (<c>FOR UPDATE SKIP LOCKED</c>), and a
/// dispatcher that died leaves the lease to run out. Per webhook and session, deliveries go strictly in event order: one
/// is claimed only when no older one of the same webhook and session is pending.
/// </summary>
public sealed class WebhookQueue(RaworcDbContext db, IOptions<WebhookOptions> options, TimeProvider clock)
{
    /// <summary>The oldest due delivery of an enabled webhook, leased for <paramref name="lease"/>; null when none is due.</summary>
    public async Task<WebhookDelivery?> ClaimAsync(TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return (await db.WebhookDeliveries.FromSql(ResultColumns.Inline($"""
            UPDATE webhook_deliveries SET lease_expires_at = {now + lease}
            WHERE id = (
              SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
              WHERE d.delivered_at IS NULL AND w.enabled AND d.next_attempt_at <= {now}
                AND (d.lease_expires_at IS NULL OR d.lease_expires_at < {now})
                AND NOT EXISTS (SELECT 1 FROM webhook_deliveries older
                                WHERE older.webhook_id = d.webhook_id AND older.session_id = d.session_id
                                  AND older.delivered_at IS NULL AND older.id < d.id)
              ORDER BY d.next_attempt_at, d.id
              LIMIT 1
              FOR UPDATE OF d SKIP LOCKED)
            RETURNING {ResultColumns.Of<WebhookDelivery>(db)}
            """)).AsNoTracking().ToListAsync(cancellationToken)).FirstOrDefault();
    }

    /// <summary>Gives a claimed delivery back untried (shutting down): no lease, its schedule unchanged.</summary>
    public Task<int> ReleaseAsync(long id, CancellationToken cancellationToken) =>
        db.WebhookDeliveries.Where(d => d.Id == id).ExecuteUpdateAsync(set => set.SetProperty(d => d.LeaseExpiresAt, (DateTimeOffset?)null), cancellationToken);

    /// <summary>
    /// Stores a round's attempts and its outcome in one transaction: a delivered delivery is done and its webhook healthy; a
    /// failed one is due again after the backoff (<see cref="WebhookOptions.RetryDelaySeconds"/> doubling per failed round,
    /// at most <see cref="WebhookOptions.MaxRetryDelaySeconds"/>), and its webhook counts the failure and is disabled when
    /// it has kept failing (<see cref="WebhookOptions.DisableAfterFailures"/>).
    /// </summary>
    public async Task RecordAsync(WebhookDelivery delivery, SendResult result, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow();
        var last = result.Attempts[^1];
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.WebhookAttempts.AddRange(result.Attempts);
        await db.SaveChangesAsync(cancellationToken);
        var attempts = delivery.Attempts + result.Attempts.Count;
        if (result.Delivered)
        {
            await db.WebhookDeliveries.Where(d => d.Id == delivery.Id).ExecuteUpdateAsync(set => set
                .SetProperty(d => d.DeliveredAt, now).SetProperty(d => d.LeaseExpiresAt, (DateTimeOffset?)null)
                .SetProperty(d => d.Attempts, attempts).SetProperty(d => d.LastStatusCode, last.StatusCode)
                .SetProperty(d => d.LastError, (string?)null), cancellationToken);
            await db.Webhooks.Where(w => w.Id == delivery.WebhookId && w.ConsecutiveFailures > 0).ExecuteUpdateAsync(set => set
                .SetProperty(w => w.ConsecutiveFailures, 0).SetProperty(w => w.FailingSince, (DateTimeOffset?)null), cancellationToken);
        }
        else
        {
            var exponent = Math.Min(delivery.FailedRounds, 20);
            var delay = Math.Min(settings.MaxRetryDelaySeconds, settings.RetryDelaySeconds * Math.Pow(2, exponent));
            await db.WebhookDeliveries.Where(d => d.Id == delivery.Id).ExecuteUpdateAsync(set => set
                .SetProperty(d => d.NextAttemptAt, now.AddSeconds(delay)).SetProperty(d => d.LeaseExpiresAt, (DateTimeOffset?)null)
                .SetProperty(d => d.Attempts, attempts).SetProperty(d => d.FailedRounds, delivery.FailedRounds + 1)
                .SetProperty(d => d.LastStatusCode, last.StatusCode).SetProperty(d => d.LastError, last.Error), cancellationToken);
            await db.Webhooks.Where(w => w.Id == delivery.WebhookId).ExecuteUpdateAsync(set => set
                .SetProperty(w => w.ConsecutiveFailures, w => w.ConsecutiveFailures + 1)
                .SetProperty(w => w.FailingSince, w => w.FailingSince ?? now), cancellationToken);
            var cutoff = now.AddSeconds(-settings.DisableAfterFailingSeconds);
            var reason = $"Disabled after {settings.DisableAfterFailures} or more deliveries in a row failed; the last: {last.Error}.";
            await db.Webhooks.Where(w => w.Id == delivery.WebhookId && w.Enabled
                    && w.ConsecutiveFailures >= settings.DisableAfterFailures && w.FailingSince <= cutoff)
                .ExecuteUpdateAsync(set => set.SetProperty(w => w.Enabled, false).SetProperty(w => w.DisabledReason, reason)
                    .SetProperty(w => w.DisabledAt, now).SetProperty(w => w.UpdatedAt, now), cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }
}
