using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Raworc.ApiService.Webhooks;

/// <summary>
/// Sends the outbox: <see cref="WebhookOptions.Concurrency"/> loops per replica claim due deliveries
/// (<see cref="WebhookQueue.ClaimAsync"/>), send one round each (<see cref="WebhookSender"/>) and record it; an idle loop
/// looks again every <see cref="WebhookOptions.PollMilliseconds"/>. On shutdown a delivery in flight is given back with
/// its schedule unchanged, so the next start (or another replica) sends it: delivery is at least once.
/// </summary>
public sealed class WebhookDispatcher(IServiceScopeFactory scopes, WebhookSender sender, WebhookSecrets secrets,
    IOptions<WebhookOptions> options, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(10);

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, options.Value.Concurrency).Select(_ => LoopAsync(stoppingToken)).Append(PruneAsync(stoppingToken)));

    /// <summary>Every few minutes, removes deliveries delivered longer ago than <see cref="WebhookOptions.RetentionDays"/> (any replica may).</summary>
    private async Task PruneAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PruneInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var cutoff = DateTimeOffset.UtcNow.AddDays(-options.Value.RetentionDays);
                    await scope.ServiceProvider.GetRequiredService<RaworcDbContext>().WebhookDeliveries
                        .Where(d => d.DeliveredAt != null && d.DeliveredAt < cutoff).ExecuteDeleteAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning("Pruning webhook deliveries failed: {Reason}", FailureText.DescribeForLog(ex));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task LoopAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromMilliseconds(options.Value.PollMilliseconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            bool worked;
            try
            {
                worked = await TryOneAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning("Sending a webhook delivery failed: {Reason}", FailureText.DescribeForLog(ex));
                worked = false;
            }
            if (!worked)
            {
                try
                {
                    await Task.Delay(poll, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task<bool> TryOneAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        // Long enough for every attempt of a round and its waits; a live dispatcher always records first.
        var lease = TimeSpan.FromSeconds((settings.TimeoutSeconds + 5) * (settings.ImmediateRetries + 1) + 60);
        await using var scope = scopes.CreateAsyncScope();
        var queue = scope.ServiceProvider.GetRequiredService<WebhookQueue>();
        var delivery = await queue.ClaimAsync(lease, stoppingToken);
        if (delivery is null)
        {
            return false;
        }
        var db = scope.ServiceProvider.GetRequiredService<RaworcDbContext>();
        var webhook = await db.Webhooks.AsNoTracking().Where(w => w.Id == delivery.WebhookId)
            .Select(w => new { w.Url, w.ProtectedSecret }).FirstOrDefaultAsync(stoppingToken);
        if (webhook is null)
        {
            return true;
        }
        SendResult result;
        try
        {
            result = await sender.SendAsync(webhook.Url, secrets.Unprotect(webhook.ProtectedSecret), delivery, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await queue.ReleaseAsync(delivery.Id, CancellationToken.None);
            throw;
        }
        await queue.RecordAsync(delivery, result, CancellationToken.None);
        if (!result.Delivered)
        {
            logger.LogInformation("Webhook {WebhookId} delivery {DeliveryId} failed: {Reason}", delivery.WebhookId, delivery.Id, result.Attempts[^1].Error);
        }
        return true;
    }
}
