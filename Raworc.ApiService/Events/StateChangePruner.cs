using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Raworc.ApiService.Events;

/// <summary>
/// Removes the state changes (table <c>state_changes</c>) that a session's later changes superseded before the retention
/// window (<see cref="EventOptions.StateChangeRetentionDays"/>): a row goes when it is older than the window and a later
/// change of the same session is too. What the event stream's resume needs stays: every change inside the window, and
/// the last one before it, which says what state the window began in. Messages are never pruned, and webhook deliveries
/// carry their own copy of each event (the outbox), so neither depends on these rows. Runs at start-up and every
/// <see cref="EventOptions.PruneIntervalSeconds"/>, on every replica (a delete is safe to repeat), in batches so no
/// statement holds many row locks for long.
/// </summary>
public sealed class StateChangePruner(IServiceScopeFactory scopes, IOptions<EventOptions> options, TimeProvider clock,
    ILogger<StateChangePruner> logger) : BackgroundService
{
    /// <summary>Most rows one statement deletes.</summary>
    public const int BatchSize = 5000;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.PruneIntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PruneAsync(clock.GetUtcNow().AddDays(-options.Value.StateChangeRetentionDays), stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Pruning state changes failed: {Reason}", FailureText.DescribeForLog(ex));
            }
            try
            {
                await Task.Delay(interval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Deletes every state change older than <paramref name="cutoff"/> that a later change older than it superseded.</summary>
    /// <returns>How many rows were deleted.</returns>
    public async Task<int> PruneAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RaworcDbContext>();
        var total = 0;
        int deleted;
        do
        {
            // The later change is looked up through the (session_id, seq) index.
            deleted = await db.Database.ExecuteSqlAsync($"""
                DELETE FROM state_changes WHERE seq IN (
                    SELECT c.seq FROM state_changes c
                    WHERE c.created_at < {cutoff} AND EXISTS (
                        SELECT 1 FROM state_changes later
                        WHERE later.session_id = c.session_id AND later.seq > c.seq AND later.created_at < {cutoff})
                    LIMIT {BatchSize})
                """, cancellationToken);
            total += deleted;
        }
        while (deleted == BatchSize);
        return total;
    }
}
