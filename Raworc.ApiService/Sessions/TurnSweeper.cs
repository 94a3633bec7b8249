using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Platform;

namespace Raworc.ApiService.Sessions;

/// <summary>
/// Ends turns whose Host went silent: every few seconds, a busy session whose <c>last_activity_at</c> is older than
/// <see cref="SessionOptions.BusyHeartbeatSeconds"/> becomes <c>idle</c> (its idle deadline starts) with a <c>system</c>
/// message of type <c>turn_ended</c>. Reads and writes Postgres only, so a Redis outage neither ends a live turn nor keeps
/// a dead one; any number of replicas may run it (the transition's conditional update lets one win).
/// </summary>
public sealed class TurnSweeper(IServiceScopeFactory scopes, IOptions<SessionOptions> options,
    TimeProvider clock, ILogger<TurnSweeper> logger) : BackgroundService
{
    /// <summary>How often busy sessions are checked.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await EndSilentTurnsAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Turn sweep failed: {Reason}", FailureText.DescribeForLog(ex));
            }
        }
    }

    /// <summary>One pass; returns the sessions whose turn it ended.</summary>
    public async Task<IReadOnlyList<Guid>> EndSilentTurnsAsync(CancellationToken cancellationToken)
    {
        var seconds = options.Value.BusyHeartbeatSeconds;
        var cutoff = clock.GetUtcNow().AddSeconds(-seconds);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RaworcDbContext>();
        var silent = await db.Sessions.AsNoTracking()
            .Where(s => s.State == SessionStates.Busy && s.LastActivityAt <= cutoff)
            .Select(s => s.Id).Take(100).ToListAsync(cancellationToken);
        var ended = new List<Guid>();
        foreach (var id in silent)
        {
            using var activity = Telemetry.StartBackgroundWork("end silent turn", id);
            var conversation = scope.ServiceProvider.GetRequiredService<Conversation>();
            var (result, _) = await conversation.AppendAsync(id, MessageRoles.System,
                $"The Host gave no sign of life for {seconds} s, so its turn was ended. Send a message to try again.",
                new JsonObject { ["type"] = "turn_ended", ["silent_seconds"] = seconds }, SessionEvent.HeartbeatLost,
                cancellationToken: cancellationToken);
            if (!result.IsApplied)
            {
                // It beat, finished or closed since it was read.
                continue;
            }
            logger.LogWarning("Session {SessionId}: no heartbeat from its Host for {Seconds} s; the turn was ended", id, seconds);
            ended.Add(id);
        }
        return ended;
    }
}
