using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Platform;
using Raworc.ApiService.Redis;

namespace Raworc.ApiService.Sessions;

/// <summary>
/// Closes idle sessions whose deadline passed. One replica sweeps at a time (a Redis lock); it reads due
/// sessions from the Redis sorted set several times a second, and re-seeds the set from Postgres every
/// few seconds, so deadlines survive a Redis restart.
/// </summary>
public sealed class IdleSweeper(IServiceScopeFactory scopes, RedisStore presence, TimeProvider clock, ILogger<IdleSweeper> logger)
    : BackgroundService
{
    /// <summary>Redis lock held by the sweeping replica.</summary>
    public const string LockName = "raworc:lock:idle-sweeper";

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LockTtl = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ReseedEvery = TimeSpan.FromSeconds(5);
    private readonly string _owner = $"{Environment.MachineName}:{Guid.NewGuid():N}";

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lastSeed = DateTimeOffset.MinValue;
        using var timer = new PeriodicTimer(Tick, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (!await presence.HoldLockAsync(LockName, _owner, LockTtl))
                {
                    continue;
                }
                if (clock.GetUtcNow() - lastSeed >= ReseedEvery)
                {
                    await ReseedAsync(stoppingToken);
                    lastSeed = clock.GetUtcNow();
                }
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Idle sweep failed: {Reason}", FailureText.DescribeForLog(ex));
            }
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        foreach (var sessionId in await presence.DueAsync(clock.GetUtcNow(), take: 100))
        {
            using var activity = Telemetry.StartBackgroundWork("close idle session", sessionId);
            await using var scope = scopes.CreateAsyncScope();
            var transitions = scope.ServiceProvider.GetRequiredService<SessionTransitions>();
            if ((await transitions.ApplyAsync(sessionId, SessionEvent.IdleDeadline, cancellationToken: cancellationToken)).IsApplied)
            {
                logger.LogInformation("Session {SessionId} closed after its idle timeout", sessionId);
                continue;
            }
            // No longer idle, gone, or its deadline moved: the entry is stale.
            presence.ClearIdleDeadline(sessionId);
            await ReseedOneAsync(scope.ServiceProvider, sessionId, cancellationToken);
        }
    }

    private static async Task ReseedOneAsync(IServiceProvider services, Guid sessionId, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<RaworcDbContext>();
        var deadline = await db.Sessions.Where(s => s.Id == sessionId && s.State == SessionStates.Idle)
            .Select(s => s.AutoCloseAt).FirstOrDefaultAsync(cancellationToken);
        if (deadline is { } at)
        {
            services.GetRequiredService<RedisStore>().SetIdleDeadline(sessionId, at);
        }
    }

    private async Task ReseedAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RaworcDbContext>();
        var idle = await db.Sessions.AsNoTracking().Where(s => s.State == SessionStates.Idle && s.AutoCloseAt != null)
            .Select(s => new { s.Id, s.AutoCloseAt }).ToListAsync(cancellationToken);
        foreach (var session in idle)
        {
            presence.SetIdleDeadline(session.Id, session.AutoCloseAt!.Value);
        }
    }
}
