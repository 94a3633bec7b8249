using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Computers;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Platform;
using Raworc.ApiService.Redis;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Work;

/// <summary>
/// Makes the database and the engine agree, at start-up and every few seconds (one replica at a time):
/// containers without a live session are removed; idle or busy sessions whose container is gone or exited
/// become <c>closed</c> (idle: nothing was in flight) or <c>errored</c> (busy, with the exit code); sessions
/// whose agent missed its ready deadline become <c>errored</c>; volumes whose session no longer exists are removed; a
/// running computer still without its network (<see cref="ComputerInfo.NetworkDetached"/>) is attached. Each pass also
/// closes sessions whose computer holds too much of the host's network memory (<see cref="NetworkUseLimit"/>), and every
/// <see cref="ComputerOptions.VolumeCheckSeconds"/> those whose volume is over a limit (<see cref="VolumeLimit"/>).
/// Containers of an earlier run of the same deployment (same database, so same deployment id) are adopted like any
/// other: a live session's keeps serving. The warm pool's unclaimed computers (rows of <c>warm_computers</c>) are
/// neither removed nor judged here; once claimed they are a session's like any other. An unreachable engine is skipped, never blamed on sessions.
/// </summary>
public sealed class ComputerReconciler(IServiceScopeFactory scopes, IComputerProvider computers, RedisStore presence,
    IOptions<ComputerOptions> options, TimeProvider clock, ILogger<ComputerReconciler> logger) : BackgroundService
{
    /// <summary>Redis lock held by the reconciling replica.</summary>
    public const string LockName = "raworc:lock:reconciler";

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private readonly string _owner = $"{Environment.MachineName}:{Guid.NewGuid():N}";
    private DateTimeOffset _volumesCheckedAt = DateTimeOffset.MinValue;
    private DateTimeOffset _runsPrunedAt = DateTimeOffset.MinValue;
    private static readonly TimeSpan PruneRunsEvery = TimeSpan.FromMinutes(10);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await presence.HoldLockAsync(LockName, _owner, Interval * 3) && await computers.IsReachableAsync(stoppingToken))
                {
                    var computersListed = await ReconcileAsync(stoppingToken);
                    await CheckNetworkUseAsync(computersListed, stoppingToken);
                    await CheckVolumesWhenDueAsync(stoppingToken);
                    await PruneWorkRunsWhenDueAsync(stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Reconciliation failed: {Reason}", FailureText.DescribeForLog(ex));
            }
            await Task.Delay(Interval, clock, stoppingToken);
        }
    }

    /// <summary>One pass.</summary>
    /// <returns>The computers the engine listed in it (its last list, before orphans were removed).</returns>
    public async Task<IReadOnlyList<ComputerInfo>> ReconcileAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RaworcDbContext>();
        var transitions = scope.ServiceProvider.GetRequiredService<SessionTransitions>();

        // Sessions first, containers second: a session that turns idle after this query is not judged on a stale list.
        var running = await db.Sessions.AsNoTracking()
            .Where(s => s.State == SessionStates.Idle || s.State == SessionStates.Busy)
            .Select(s => new { s.Id, s.State }).ToListAsync(cancellationToken);
        var containers = (await computers.ListAsync(cancellationToken)).ToDictionary(c => c.SessionId);
        foreach (var detached in containers.Values.Where(c => c.NetworkDetached))
        {
            // Started before its network was attached, and the attach after the start did not happen (an API that stopped
            // in between, an engine error) or is still under way (then this one finds it done).
            try
            {
                await computers.AttachNetworkAsync(detached, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One computer's failure does not hold up the rest of the pass; the next pass tries it again.
                logger.LogWarning("Attaching the network of session {SessionId}'s computer failed: {Reason}", detached.SessionId, FailureText.DescribeForLog(ex));
            }
        }
        foreach (var session in running)
        {
            if (containers.TryGetValue(session.Id, out var computer) && computer.State != ComputerState.Exited)
            {
                continue;
            }
            using var activity = Telemetry.StartBackgroundWork("reconcile lost computer", session.Id);
            // Either way a system message says what happened: an idle session is only closed (nothing was in flight), and
            // without it the user saw `closed` with no reason (found by a break-out attempt: /tmp and the home folder, which
            // are in memory, filled after a turn). A result that is not applied means the session moved on (or was deleted)
            // since it was read: nothing is written.
            var (text, metadata) = LostComputerNotice(computer);
            var notice = MessageFactory.Create(session.Id, MessageRoles.System, text, metadata, clock.GetUtcNow());
            await (session.State == SessionStates.Idle
                ? transitions.ApplyAsync(session.Id, SessionEvent.ComputerGone, message: notice, cancellationToken: cancellationToken)
                : transitions.ApplyAsync(session.Id, SessionEvent.Failed, message: notice, error: computer is { ExitCode: { } code }
                    ? $"The computer stopped unexpectedly (exit code {code}) during a turn.{(computer.OutOfMemory ? OutOfMemoryText : "")}"
                    : "The computer disappeared during a turn.", cancellationToken: cancellationToken));
            // An exited container of a session that is no longer live is removed below on the next pass.
        }

        var now = clock.GetUtcNow();
        var late = await db.Sessions.AsNoTracking()
            .Where(s => s.State == SessionStates.Init && s.ReadyDeadlineAt != null && s.ReadyDeadlineAt < now)
            .Select(s => s.Id).ToListAsync(cancellationToken);
        foreach (var id in late)
        {
            using var activity = Telemetry.StartBackgroundWork("fail late start", id);
            await transitions.ApplyAsync(id, SessionEvent.Failed,
                error: $"The Host agent did not report ready within {options.Value.StartDeadlineSeconds} s.", cancellationToken: cancellationToken);
        }

        // Containers first, sessions second: a container created after the list is not judged here.
        var listed = await computers.ListAsync(cancellationToken);
        var ids = listed.Select(c => c.SessionId).ToList();
        // The warm pool's unclaimed computers belong to no session yet: the pool tends them (WarmPool), never the reconciler.
        // Read before the live sessions: a claim turns a pooled id into a live session's in one commit, so in this order an
        // id claimed meanwhile is seen as one or the other (the other order could miss it in both and remove its computer).
        var pooled = await db.WarmComputers.AsNoTracking().Where(w => ids.Contains(w.Id)).Select(w => w.Id).ToListAsync(cancellationToken);
        var live = await db.Sessions.LiveIdsAsync(ids, cancellationToken);
        var pending = await db.WorkItems.AsNoTracking().Where(w => ids.Contains(w.SessionId)).Select(w => w.SessionId).Distinct()
            .ToListAsync(cancellationToken);
        pending.AddRange(pooled);
        foreach (var orphan in listed.Where(c => !live.Contains(c.SessionId) && !pending.Contains(c.SessionId)))
        {
            using var activity = Telemetry.StartBackgroundWork("remove orphan computer", orphan.SessionId);
            logger.LogInformation("Removing the container of session {SessionId}: no live session owns it", orphan.SessionId);
            var exists = await db.Sessions.AnyAsync(s => s.Id == orphan.SessionId, cancellationToken);
            // By container id: a restore may have given the session a new container since the list was taken.
            await (exists
                ? computers.RemoveComputerAsync(orphan, cancellationToken)
                : computers.DeleteAsync(orphan.SessionId, cancellationToken));
        }

        // Volumes first, sessions second: a session's row is committed before its volume is made.
        var volumes = await computers.ListVolumesAsync(cancellationToken);
        // Pooled before known, for the same reason as above.
        var pooledVolumes = await db.WarmComputers.AsNoTracking().Where(w => volumes.Contains(w.Id)).Select(w => w.Id).ToListAsync(cancellationToken);
        var known = await db.Sessions.AsNoTracking().Where(s => volumes.Contains(s.Id)).Select(s => s.Id).ToListAsync(cancellationToken);
        var queued = await db.WorkItems.AsNoTracking().Where(w => volumes.Contains(w.SessionId)).Select(w => w.SessionId).Distinct()
            .ToListAsync(cancellationToken);
        queued.AddRange(pooledVolumes);
        foreach (var gone in volumes.Except(known).Except(queued))
        {
            using var activity = Telemetry.StartBackgroundWork("remove orphan volume", gone);
            // A delete that did not finish, or a run whose database was wiped: nothing could ever reach these files.
            logger.LogInformation("Removing the volume of session {SessionId}: the session no longer exists", gone);
            await computers.DeleteAsync(gone, cancellationToken);
        }
        return listed;
    }

    private const string OutOfMemoryText = " It ran out of memory: what is in /tmp and the home folder is held in memory and counts"
        + " against the computer's memory limit.";

    /// <summary>
    /// The <c>system</c> message for a live session whose computer exited (<paramref name="computer"/>) or is gone (null):
    /// metadata <c>{"type":"computer_stopped","exit_code":…,"out_of_memory":…}</c>, the exit code null when it is gone.
    /// </summary>
    private static (string Text, JsonObject Metadata) LostComputerNotice(ComputerInfo? computer)
    {
        const string after = " The session's files are kept; a message or a restore starts a new computer.";
        return computer is { ExitCode: { } code }
            ? ($"The computer stopped unexpectedly (exit code {code}).{(computer.OutOfMemory ? OutOfMemoryText : "")}{after}",
                new JsonObject { ["type"] = "computer_stopped", ["exit_code"] = code, ["out_of_memory"] = computer.OutOfMemory })
            : ($"The computer disappeared.{after}",
                new JsonObject { ["type"] = "computer_stopped", ["exit_code"] = null, ["out_of_memory"] = false });
    }

    /// <summary>Every pass: closes live sessions whose computer holds too much of the host's network memory (<see cref="NetworkUseLimit"/>).</summary>
    private async Task CheckNetworkUseAsync(IReadOnlyList<ComputerInfo> listed, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<NetworkUseLimit>().CloseOverLimitAsync(listed, cancellationToken);
    }

    /// <summary>Every <see cref="ComputerOptions.VolumeCheckSeconds"/>: closes live sessions whose volume is over a limit.</summary>
    private async Task CheckVolumesWhenDueAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow();
        if ((settings.MaxVolumeMiB == 0 && settings.MaxVolumeInodes == 0) || now - _volumesCheckedAt < TimeSpan.FromSeconds(settings.VolumeCheckSeconds))
        {
            return;
        }
        _volumesCheckedAt = now;
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<VolumeLimit>().CloseOversizedAsync(cancellationToken);
    }

    /// <summary>Every ten minutes: removes runs of work items older than <see cref="ComputerOptions.WorkRunRetentionDays"/>.</summary>
    private async Task PruneWorkRunsWhenDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (now - _runsPrunedAt < PruneRunsEvery)
        {
            return;
        }
        _runsPrunedAt = now;
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<WorkQueue>()
            .PruneRunsAsync(now.AddDays(-options.Value.WorkRunRetentionDays), cancellationToken);
    }
}
