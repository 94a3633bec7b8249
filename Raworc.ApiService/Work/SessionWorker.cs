using System.Net.Sockets;
using System.Threading.Channels;
using Docker.DotNet;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Computers;
using Raworc.ApiService.Platform;
using Raworc.ApiService.Redis;
using Raworc.ApiService.Sessions;
using StackExchange.Redis;

namespace Raworc.ApiService.Work;

/// <summary>
/// The session controller: turns queued work into computer operations. Several loops per process (and any
/// number of replicas) claim items with a lease committed before any engine call (<see cref="WorkQueue.ClaimAsync"/>) and
/// renewed while the attempt runs (<see cref="ComputerOptions.WorkLeaseSeconds"/>), and every attempt has a time limit
/// (<see cref="ComputerOptions.WorkTimeoutSeconds"/>); a Redis message wakes them the moment work is queued, and a short
/// poll covers a lost message. A failure of the engine itself (unreachable, 5xx) is retried with backoff for as long as it
/// lasts and never errors a session; a failure of the session's own computer (missing image, unknown runtime, bad copy)
/// makes the session <c>errored</c> with the reason.
/// </summary>
public sealed class SessionWorker(IServiceScopeFactory scopes, IConnectionMultiplexer redis, IOptions<ComputerOptions> options,
    TimeProvider clock, ILogger<SessionWorker> logger) : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private const int MaxAttemptsForUnknownFailures = 5;

    private readonly Channel<bool> _wakeUps = Channel.CreateBounded<bool>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            logger.LogInformation("Computers are disabled (Computers:Enabled=false); queued work waits");
            return;
        }
        await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(RedisStore.WorkChannel), (_, _) =>
        {
            for (var i = 0; i < options.Value.WorkConcurrency; i++)
            {
                _wakeUps.Writer.TryWrite(true);
            }
        });
        await Task.WhenAll(Enumerable.Range(0, options.Value.WorkConcurrency).Select(_ => LoopAsync(stoppingToken)));
    }

    private async Task LoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            bool worked;
            try
            {
                worked = await TryOneAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Claiming work failed: {Reason}", FailureText.DescribeForLog(ex));
                worked = false;
            }
            if (!worked)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                wait.CancelAfter(Poll);
                try
                {
                    await _wakeUps.Reader.ReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                }
            }
        }
    }

    private async Task<bool> TryOneAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var timeout = TimeSpan.FromSeconds(settings.WorkTimeoutSeconds);
        var remixTimeout = timeout + TimeSpan.FromSeconds(settings.CopyTimeoutSeconds);
        var leaseTime = TimeSpan.FromSeconds(settings.WorkLeaseSeconds);
        await using var scope = scopes.CreateAsyncScope();
        var queue = scope.ServiceProvider.GetRequiredService<WorkQueue>();
        // The claim commits on its own: no transaction or row lock is held through the engine calls below.
        var item = await queue.ClaimAsync(leaseTime, stoppingToken);
        if (item is null)
        {
            return false;
        }

        using var activity = Telemetry.StartBackgroundWork($"work {item.Kind}", item.SessionId, item.TraceParent);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        attempt.CancelAfter(item.Kind == WorkKinds.Remix ? remixTimeout : timeout);
        var lease = new HeldLease(item.LeaseExpiresAt!.Value);
        using var renewing = new CancellationTokenSource();
        var renewal = RenewAsync(item, lease, leaseTime, attempt, renewing.Token);
        try
        {
            await using var workScope = scopes.CreateAsyncScope();
            await workScope.ServiceProvider.GetRequiredService<ComputerWork>().RunAsync(item, attempt.Token);
            await StopRenewingAsync();
            await queue.CompleteAsync(item.Id, CancellationToken.None, heldUntil: lease.Until, claimedAt: item.ClaimedAt);
            logger.LogInformation("Work {Kind} for session {SessionId} done", item.Kind, item.SessionId);
        }
        catch (OperationCanceledException) when (lease.Lost)
        {
            await StopRenewingAsync();
            // Another worker may hold the item now: it is left alone, only this run is ended.
            await queue.EndRunAsync(item.Id, item.ClaimedAt, WorkRunOutcomes.Lost, CancellationToken.None);
            logger.LogWarning("Work {Kind} for session {SessionId} abandoned: its lease could not be renewed in time", item.Kind, item.SessionId);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await StopRenewingAsync();
            // Shutting down: give the item back at once, for another replica or the next start.
            await queue.ReleaseAsync(item.Id, item.Attempts, clock.GetUtcNow(), item.LastError, CancellationToken.None, WorkRunOutcomes.Released, lease.Until, item.ClaimedAt);
            throw;
        }
        catch (Exception ex) when (IsTransient(ex, item))
        {
            await StopRenewingAsync();
            var attempts = item.Attempts + 1;
            var backoff = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, Math.Min(attempts, 10)) / 2));
            var reason = FailureText.Describe(ex);
            await queue.ReleaseAsync(item.Id, attempts, clock.GetUtcNow() + backoff, reason, CancellationToken.None, heldUntil: lease.Until, claimedAt: item.ClaimedAt);
            logger.LogWarning("Work {Kind} for session {SessionId} failed ({Reason}); retrying in {Backoff}",
                item.Kind, item.SessionId, FailureText.DescribeForLog(ex), backoff);
        }
        catch (Exception ex)
        {
            await StopRenewingAsync();
            if (FailureText.Describe(ex) == FailureText.Unexpected)
            {
                // The session's error says only "an unexpected error"; the log says where it came from.
                logger.LogWarning("Work {Kind} for session {SessionId} failed: {Reason}", item.Kind, item.SessionId, FailureText.DescribeForLog(ex));
            }
            await FailSessionAsync(item, Reason(ex, item.Kind), CancellationToken.None);
            await queue.CompleteAsync(item.Id, CancellationToken.None, WorkRunOutcomes.Failed, lease.Until, item.ClaimedAt);
        }
        finally
        {
            await StopRenewingAsync();
        }
        return true;

        // The renewal loop must have ended before the item is completed or given back: it would renew a lease that is gone.
        async Task StopRenewingAsync()
        {
            await renewing.CancelAsync();
            await renewal;
        }
    }

    /// <summary>The end of the lease this worker set last; <see cref="Lost"/> once a renewal found the item taken or came too late.</summary>
    private sealed class HeldLease(DateTimeOffset until)
    {
        private long _untilTicks = until.UtcTicks;
        private int _lost;

        public DateTimeOffset Until
        {
            get => new(Interlocked.Read(ref _untilTicks), TimeSpan.Zero);
            set => Interlocked.Exchange(ref _untilTicks, value.UtcTicks);
        }

        public bool Lost
        {
            get => Volatile.Read(ref _lost) == 1;
            set => Volatile.Write(ref _lost, value ? 1 : 0);
        }
    }

    /// <summary>
    /// Renews the item's lease every third of <paramref name="leaseTime"/> until <paramref name="stop"/>. When the item turns
    /// out to be another worker's, or no renewal succeeded before the lease ended, the attempt is cancelled and the lease
    /// marked lost. Never throws.
    /// </summary>
    private async Task RenewAsync(WorkItem item, HeldLease lease, TimeSpan leaseTime, CancellationTokenSource attempt, CancellationToken stop)
    {
        await using var scope = scopes.CreateAsyncScope();
        var queue = scope.ServiceProvider.GetRequiredService<WorkQueue>();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(leaseTime / 3, clock, stop);
                // Not cancelled once sent: a renewal that committed unseen would leave the worker holding a lease it does
                // not know, and its completion would then leave the item to run again.
                var renewed = await queue.RenewAsync(item.Id, lease.Until, leaseTime, CancellationToken.None);
                if (renewed is { } until)
                {
                    lease.Until = until;
                    continue;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning("Renewing the lease of work {Kind} for session {SessionId} failed: {Reason}",
                    item.Kind, item.SessionId, FailureText.DescribeForLog(ex));
                if (clock.GetUtcNow() < lease.Until)
                {
                    continue;
                }
            }
            lease.Lost = true;
            await attempt.CancelAsync();
            return;
        }
    }

    /// <summary>The engine being away is transient; the session's own problem is not; a delete is always retried.</summary>
    internal static bool IsTransient(Exception ex, WorkItem item) => ex switch
    {
        // A delete must finish: the volume holds the session's files and secrets. It is retried for as long as it fails.
        _ when item.Kind == WorkKinds.Delete => true,
        ComputerImageNotFoundException or ComputerRuntimeNotFoundException or ComputerCopyFailedException or ArgumentException => false,
        // The node holding the session's files is away: refused at once with a clear error; a later restore works once it is back.
        Computers.Swarm.ComputerNodeUnavailableException => false,
        // The cluster has no room (the placement probe already waited): retrying would only delay the same answer.
        Computers.Swarm.ComputerNoRoomException => false,
        // A conflict is the engine still busy with the same name: a removal in progress (by the reconciler, or an earlier
        // attempt) or a name not yet released. It clears in moments, so it gets the retries of an unknown failure.
        DockerApiException { StatusCode: System.Net.HttpStatusCode.Conflict } => item.Attempts + 1 < MaxAttemptsForUnknownFailures,
        DockerApiException docker => (int)docker.StatusCode >= 500,
        HttpRequestException or SocketException or TimeoutException or IOException => true,
        _ => item.Attempts + 1 < MaxAttemptsForUnknownFailures,
    };

    /// <summary>
    /// The session's <c>error</c> text (or, for a close or delete, the log's) for a failure that is not transient: the
    /// provider's own message where it is meant for users; never the exception's message otherwise.
    /// </summary>
    internal static string Reason(Exception ex, string kind = WorkKinds.Create) => (kind, ex) switch
    {
        (WorkKinds.Close, _) => $"The computer could not be stopped: {Cause(ex)}.",
        (WorkKinds.Delete, _) => $"The computer and its volume could not be removed: {Cause(ex)}.",
        _ => StartReason(ex),
    };

    // What failed, in words: a user reads it in the session's error, so never the exception's type or message (which may
    // hold the engine's address, a path or a connection string); the worker's log line has the session's id beside it.
    private static string Cause(Exception ex) => FailureText.Describe(ex) switch
    {
        FailureText.Unexpected => FailureText.Unexpected + " (the API's log has the session's id)",
        var words => words,
    };

    private static string StartReason(Exception ex) => ex switch
    {
        IComputerErrorForUsers => ex.Message,
        ArgumentException => "The session's secrets or settings could not be given to its computer.",
        OperationCanceledException => "The computer could not be started in time (Computers:WorkTimeoutSeconds, tried 5 times).",
        _ => $"The computer could not be started: {Cause(ex)}.",
    };

    private async Task FailSessionAsync(WorkItem item, string reason, CancellationToken cancellationToken)
    {
        if (item.Kind is WorkKinds.Close or WorkKinds.Delete)
        {
            logger.LogError("Work {Kind} for session {SessionId} failed for good: {Reason}", item.Kind, item.SessionId, reason);
            return;
        }
        await using var scope = scopes.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<SessionTransitions>()
            .ApplyAsync(item.SessionId, SessionEvent.Failed, error: reason, cancellationToken: cancellationToken);
        // Not applied: closed or deleted meanwhile, nothing to mark.
        if (result.IsApplied)
        {
            logger.LogWarning("Session {SessionId} errored: {Reason}", item.SessionId, reason);
        }
    }
}
