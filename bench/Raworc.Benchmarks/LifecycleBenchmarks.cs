using System.Diagnostics;

namespace Raworc.Benchmarks;

/// <summary>Create → idle, close → restore → idle, idle deadline → closed.</summary>
internal static class LifecycleBenchmarks
{
    public const string CreateName = "create → `idle` (container up, agent ready)";
    // Issue 14: a session is ready about as fast as a bare container; judged by Floors.Compare once the floors are measured.
    public const string CreateTarget = "p50 ≤ 1.5× bare floor";
    public const string RestoreName = "closed → restored → `idle`";
    public const string RestoreTarget = "p50 ≤ 1.5× bare floor";
    public const string DeadlineName = "idle deadline → `closed`, lateness";
    public const string DeadlineTarget = "p95 ≤ 2 s";

    /// <summary>Creates <paramref name="count"/> sessions one after another, each timed from POST to the first GET showing <c>idle</c>; they are kept.</summary>
    public static async Task<Figure> CreateToIdleAsync(BenchContext context, int count, List<Guid> kept, CancellationToken cancellationToken)
    {
        var elapsed = new List<double>();
        var phases = new Phases();
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var created = await context.Api.CreateAsync(BenchContext.KeepTimeoutSeconds, cancellationToken);
            kept.Add(created.Id);
            var idle = await context.Api.WaitForStateAsync(created.Id, "idle", BenchContext.FastPoll, BenchContext.StateTimeout, cancellationToken);
            elapsed.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
            phases.Add(created.CreatedAt, await Computers.TimesAsync(context.Fixture.Docker, created.Id, cancellationToken), idle.StartedAt!.Value);
        }
        var (p50, p95) = (Stats.P50(elapsed), Stats.P95(elapsed));
        return new Figure(CreateName, CreateTarget, Stats.Seconds(p50), Stats.Seconds(p95), count, null,
            $"one at a time; {phases.Describe("created_at")}") { P50Seconds = p50 };
    }

    /// <summary>Closes one idle session, waits until its container is gone, then times POST restore → <c>idle</c>.</summary>
    public static async Task<Figure> RestoreAsync(BenchContext context, Guid id, int count, CancellationToken cancellationToken)
    {
        var elapsed = new List<double>();
        var closing = new List<double>();
        var phases = new Phases();
        for (var i = 0; i < count; i++)
        {
            var closeStarted = Stopwatch.GetTimestamp();
            await context.Api.PostActionAsync(id, "close", cancellationToken);
            await context.Api.WaitForStateAsync(id, "closed", BenchContext.FastPoll, BenchContext.StateTimeout, cancellationToken);
            await UntilContainerGoneAsync(context, id, cancellationToken);
            closing.Add(Stopwatch.GetElapsedTime(closeStarted).TotalSeconds);

            var requested = DateTimeOffset.UtcNow;
            var started = Stopwatch.GetTimestamp();
            await context.Api.PostActionAsync(id, "restore", cancellationToken);
            var idle = await context.Api.WaitForStateAsync(id, "idle", BenchContext.FastPoll, BenchContext.StateTimeout, cancellationToken);
            elapsed.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
            phases.Add(requested, await Computers.TimesAsync(context.Fixture.Docker, id, cancellationToken), idle.StartedAt!.Value);
        }
        var p50 = Stats.P50(elapsed);
        return new Figure(RestoreName, RestoreTarget, Stats.Seconds(p50), Stats.Seconds(Stats.P95(elapsed)), count, null,
            $"one session, closed and restored {count}×; {phases.Describe("restore request")}; close → container removed p50 {Stats.Seconds(Stats.P50(closing))}")
            { P50Seconds = p50 };
    }

    /// <summary>
    /// Creates sessions with 1 or 2 s timeouts (in waves of <paramref name="wave"/>), watches each go idle and close by itself, and
    /// takes <c>closed_at − auto_close_at</c> (the deadline last shown while idle).
    /// </summary>
    public static async Task<Figure> IdleDeadlineAsync(BenchContext context, int count, int wave, CancellationToken cancellationToken)
    {
        var lateness = new List<double>();
        for (var first = 0; first < count; first += wave)
        {
            lateness.AddRange(await Task.WhenAll(Enumerable.Range(first, Math.Min(wave, count - first))
                .Select(i => WatchDeadlineAsync(context, 1 + i % 2, cancellationToken))));
        }
        var p95 = Stats.P95(lateness);
        return new Figure(DeadlineName, DeadlineTarget, Stats.Millis(Stats.P50(lateness)), Stats.Millis(p95), count, p95 <= 2.0,
            $"timeout_seconds 1 and 2, {wave} at a time; max {Stats.Millis(lateness.Max())}");
    }

    private static async Task<double> WatchDeadlineAsync(BenchContext context, int timeoutSeconds, CancellationToken cancellationToken)
    {
        var created = await context.Api.CreateAsync(timeoutSeconds, cancellationToken);
        var watching = Stopwatch.GetTimestamp();
        DateTimeOffset? deadline = null;
        while (Stopwatch.GetElapsedTime(watching) < BenchContext.StateTimeout)
        {
            var session = await context.Api.GetAsync(created.Id, cancellationToken);
            switch (session.State)
            {
                case "idle":
                    deadline = session.AutoCloseAt;
                    break;
                case "closed":
                    // The idle transition sets auto_close_at = started_at + timeout; used if the idle state was never seen.
                    deadline ??= session.StartedAt?.AddSeconds(timeoutSeconds);
                    return (session.ClosedAt!.Value - deadline!.Value).TotalSeconds;
                case "errored":
                    throw new BenchmarkException($"session {created.Id} errored: {session.Error}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
        throw new BenchmarkException($"session {created.Id} did not close within {BenchContext.StateTimeout.TotalSeconds:0} s");
    }

    /// <summary>Waits (up to <see cref="BenchContext.StateTimeout"/>) until the closed session's container is removed.</summary>
    public static async Task UntilContainerGoneAsync(BenchContext context, Guid id, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (await context.Fixture.Probe.InspectAsync(id) is not null)
        {
            if (Stopwatch.GetElapsedTime(started) > BenchContext.StateTimeout)
            {
                throw new BenchmarkException($"the container of the closed session {id} was not removed");
            }
            await Task.Delay(BenchContext.FastPoll, cancellationToken);
        }
    }
}

/// <summary>Where a computer start spends its time, from the API's and the engine's timestamps.</summary>
internal sealed class Phases
{
    private readonly List<double> _toContainer = [];
    private readonly List<double> _containerStart = [];
    private readonly List<double> _agentReady = [];

    public void Add(DateTimeOffset requested, ContainerTimes container, DateTimeOffset ready)
    {
        _toContainer.Add((container.Created - requested).TotalSeconds);
        _containerStart.Add((container.Started - container.Created).TotalSeconds);
        _agentReady.Add((ready - container.Started).TotalSeconds);
    }

    /// <summary>Medians of each step: request → container created (queue, volume, create call), → started, → agent reported ready.</summary>
    public string Describe(string from) =>
        $"p50 phases: {from} → container created {Stats.Millis(Stats.P50(_toContainer))}, → container started {Stats.Millis(Stats.P50(_containerStart))}, " +
        $"→ agent ready (POST idle) {Stats.Millis(Stats.P50(_agentReady))}";
}
