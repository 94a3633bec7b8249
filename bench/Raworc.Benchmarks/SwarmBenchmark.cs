using System.Diagnostics;
using System.Globalization;
using Docker.DotNet.Models;
using Raworc.Tests.Infrastructure;

namespace Raworc.Benchmarks;

/// <summary>
/// The Swarm column (issue 17): create → <c>idle</c> and closed → restored → <c>idle</c> with <c>Computers:Provider=swarm</c>
/// on the two-node test cluster of <c>eng/swarm-cluster.sh</c>, printed beside the single engine's figures of the same run.
/// The cluster is a run of its own (<see cref="ClusterName"/>): it is brought up by the script before the system starts and
/// taken down after, so tests on the default cluster are never touched. Where it cannot come up, the rows say why.
/// </summary>
internal static class SwarmBenchmark
{
    public const string CreateName = "create → `idle`, Swarm provider (2-node test cluster)";
    public const string RestoreName = "closed → restored → `idle`, Swarm provider (2-node test cluster)";
    private const string Target = "— (beside the single engine)";

    /// <summary>The benchmark's own cluster (namespaces, sockets, data root), apart from the tests' <c>raworc-swarm</c>.</summary>
    public const string ClusterName = "raworc-bench-swarm";

    /// <summary>
    /// Brings the cluster up, starts the system on it, times <paramref name="creates"/> creates one at a time and
    /// <paramref name="restores"/> close → restore cycles of one session, deletes the sessions, stops the system and takes
    /// the cluster down. <paramref name="engineCreate"/> and <paramref name="engineRestore"/> (the single engine's rows of
    /// the same run, or null) are what each row is compared with.
    /// </summary>
    public static async Task<IReadOnlyList<Figure>> MeasureAsync(Figure? engineCreate, Figure? engineRestore, int creates, int restores,
        Action<string> log, CancellationToken cancellationToken)
    {
        if (SwarmCluster.CannotRunReason is { } reason)
        {
            return NotMeasured(reason);
        }
        Environment.SetEnvironmentVariable("RAWORC_SWARM_NAME", ClusterName);
        var fixture = new SwarmAppFixture();
        var started = false;
        try
        {
            log($"bringing up the Swarm test cluster {ClusterName} and the system on it");
            try
            {
                await fixture.InitializeAsync().WaitAsync(cancellationToken);
                started = true;
            }
            catch (Exception ex)
            {
                return NotMeasured(cancellationToken.IsCancellationRequested
                    ? "the Swarm phase's time budget ran out while the cluster and the system started"
                    : $"the cluster or the system on it did not come up: {ex.Message}");
            }
            var (name, client) = await fixture.CreateOperatorAsync("swarm-bench");
            client.Dispose();
            var bearer = await fixture.LoginAsync(name, "operator-pass-1");
            using var probe = fixture.CreateApiClient();
            using var http = Load.CreateClient(probe.BaseAddress!, bearer);
            var api = new BenchApi(http);
            var figures = new List<Figure>();
            try
            {
                log("measuring: create → idle on the Swarm");
                var (create, kept) = await CreateAsync(fixture, api, creates, engineCreate, cancellationToken);
                figures.Add(create);
                log("measuring: closed → restored → idle on the Swarm");
                figures.Add(await RestoreAsync(fixture, api, kept, restores, engineRestore, cancellationToken));
            }
            catch (Exception ex)
            {
                log($"failed: Swarm rows: {ex.GetType().Name}: {ex.Message}");
                var why = cancellationToken.IsCancellationRequested ? "the Swarm phase's time budget ran out" : ex.Message;
                foreach (var missing in new[] { CreateName, RestoreName }.Where(row => figures.All(f => f.Name != row)))
                {
                    figures.Add(Figure.NotMeasured(missing, Target, why));
                }
            }
            foreach (var id in api.Created.Keys.ToList())
            {
                await api.DeleteAsync(id, CancellationToken.None);
            }
            return figures;
        }
        finally
        {
            if (started)
            {
                try
                {
                    await fixture.DisposeAsync();
                }
                catch (Exception ex)
                {
                    log($"stopping the Swarm system: {ex.GetType().Name}: {ex.Message}");
                }
            }
            var (code, output) = await SwarmCluster.RunAsync("down");
            log($"eng/swarm-cluster.sh down: exit {code}: {output.Trim()}");
            Environment.SetEnvironmentVariable("RAWORC_SWARM_NAME", null);
        }
    }

    /// <summary>
    /// <c>--swarm</c>: the single engine's create → idle and restore → idle in a system of its own, then the Swarm rows,
    /// printed as the whole run's table (a run of a few minutes).
    /// </summary>
    public static async Task RunAloneAsync(TextWriter table, Action<string> log, int creates, int restores)
    {
        var started = Stopwatch.GetTimestamp();
        using var budget = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        var fixture = new ComputersAppFixture();
        var figures = new List<Figure>();
        var machine = "unknown";
        Figure? create = null, restore = null;
        try
        {
            log("starting the system on the single engine");
            await fixture.InitializeAsync().WaitAsync(budget.Token);
            machine = await Machine.DescribeAsync(fixture.Docker, budget.Token);
            var (name, client) = await fixture.CreateOperatorAsync("engine-bench");
            client.Dispose();
            var bearer = await fixture.LoginAsync(name, "operator-pass-1");
            using var probe = fixture.CreateApiClient();
            using var http = Load.CreateClient(probe.BaseAddress!, bearer);
            var api = new BenchApi(http);
            var context = new BenchContext(fixture, api, http.BaseAddress!, bearer);
            var kept = new List<Guid>();
            log("measuring: create → idle on the single engine");
            create = await LifecycleBenchmarks.CreateToIdleAsync(context, creates, kept, budget.Token);
            figures.Add(create);
            log("measuring: closed → restored → idle on the single engine");
            restore = await LifecycleBenchmarks.RestoreAsync(context, kept[0], restores, budget.Token);
            figures.Add(restore);
            foreach (var id in api.Created.Keys.ToList())
            {
                await api.DeleteAsync(id, CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            log($"failed: single engine rows: {ex.GetType().Name}: {ex.Message}");
            figures.Add(Figure.NotMeasured(create is null ? LifecycleBenchmarks.CreateName : LifecycleBenchmarks.RestoreName, "—", ex.Message));
        }
        finally
        {
            await fixture.DisposeAsync();
        }
        using (var swarmBudget = new CancellationTokenSource(TimeSpan.FromMinutes(8)))
        {
            figures.AddRange(await MeasureAsync(create, restore, creates, restores, log, swarmBudget.Token));
        }
        Report.Print(table, machine, Stopwatch.GetElapsedTime(started), figures, "each phase deletes its sessions; the Swarm cluster was taken down");
    }

    /// <summary>
    /// Times <paramref name="count"/> creates one at a time; returns the row and the first session, which is kept for the
    /// restore cycles. Every later session is deleted once timed, and its service is gone before the next create: the test
    /// cluster's CPU reservations hold only 8 computers (2 nodes × 2 CPUs ÷ <c>Computers:Cpus</c> 0.5), so a ninth kept
    /// session would find no node with room and never leave <c>init</c> (what every earlier run of this column ran into).
    /// </summary>
    private static async Task<(Figure Row, Guid Kept)> CreateAsync(SwarmAppFixture fixture, BenchApi api, int count, Figure? engine,
        CancellationToken cancellationToken)
    {
        var elapsed = new List<double>();
        var nodes = new Dictionary<string, int>(StringComparer.Ordinal);
        Guid? kept = null;
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var created = await api.CreateAsync(BenchContext.KeepTimeoutSeconds, cancellationToken);
            await api.WaitForStateAsync(created.Id, "idle", BenchContext.FastPoll, BenchContext.StateTimeout, cancellationToken);
            elapsed.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
            var node = (await fixture.ServiceAsync(created.Id))?.Spec.Labels["raworc.node"] ?? "?";
            nodes[node] = nodes.GetValueOrDefault(node) + 1;
            if (kept is null)
            {
                kept = created.Id;
                continue;
            }
            await api.DeleteAsync(created.Id, cancellationToken);
            var deleted = Stopwatch.GetTimestamp();
            while (await fixture.ServiceAsync(created.Id) is not null)
            {
                if (Stopwatch.GetElapsedTime(deleted) > BenchContext.StateTimeout)
                {
                    throw new BenchmarkException($"the service of the deleted session {created.Id} is still there");
                }
                await Task.Delay(BenchContext.FastPoll, cancellationToken);
            }
        }
        var placed = string.Join(", ", nodes.Values.Order().Select(n => n.ToString(CultureInfo.InvariantCulture)));
        return (Beside(new Figure(CreateName, Target, Stats.Seconds(Stats.P50(elapsed)), Stats.Seconds(Stats.P95(elapsed)), count, null,
            $"one at a time, POST → first GET showing idle (includes the placement probe task and the seed container on the node); "
            + $"each after the first deleted once timed (the cluster's reservations hold 8 computers); sessions per node: {placed}")
            { P50Seconds = Stats.P50(elapsed) }, engine), kept!.Value);
    }

    private static async Task<Figure> RestoreAsync(SwarmAppFixture fixture, BenchApi api, Guid id, int count, Figure? engine,
        CancellationToken cancellationToken)
    {
        var elapsed = new List<double>();
        var closing = new List<double>();
        for (var i = 0; i < count; i++)
        {
            var closeStarted = Stopwatch.GetTimestamp();
            await api.PostActionAsync(id, "close", cancellationToken);
            await api.WaitForStateAsync(id, "closed", BenchContext.FastPoll, BenchContext.StateTimeout, cancellationToken);
            // Scaled to 0 and its task's container gone: the restore starts from a stopped computer, as on the single engine.
            while (await HasRunningTaskAsync(fixture, id))
            {
                if (Stopwatch.GetElapsedTime(closeStarted) > BenchContext.StateTimeout)
                {
                    throw new BenchmarkException($"the service of the closed session {id} still runs a task");
                }
                await Task.Delay(BenchContext.FastPoll, cancellationToken);
            }
            closing.Add(Stopwatch.GetElapsedTime(closeStarted).TotalSeconds);

            var started = Stopwatch.GetTimestamp();
            await api.PostActionAsync(id, "restore", cancellationToken);
            await api.WaitForStateAsync(id, "idle", BenchContext.FastPoll, BenchContext.StateTimeout, cancellationToken);
            elapsed.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        return Beside(new Figure(RestoreName, Target, Stats.Seconds(Stats.P50(elapsed)), Stats.Seconds(Stats.P95(elapsed)), count, null,
            $"one session, closed and restored {count}× (a fresh service pinned to its node each time); "
            + $"close → task ended p50 {Stats.Seconds(Stats.P50(closing))}") { P50Seconds = Stats.P50(elapsed) }, engine);
    }

    /// <summary>
    /// Whether the session's service has a task in the <c>running</c> state now (one look at the manager; the fixture's
    /// <see cref="SwarmAppFixture.ComputerAsync"/> waits up to 30 s for one to appear, which would add those 30 s to every close).
    /// </summary>
    private static async Task<bool> HasRunningTaskAsync(SwarmAppFixture fixture, Guid id)
    {
        if (await fixture.ServiceAsync(id) is not { } service)
        {
            return false;
        }
        var tasks = await fixture.Manager.Tasks.ListAsync(new TasksListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["service"] = new Dictionary<string, bool> { [service.ID] = true } },
        });
        return tasks.Any(task => task.Status?.State == TaskState.Running);
    }

    /// <summary>The Swarm row with the single engine's p50 of the same run as its floor column.</summary>
    private static Figure Beside(Figure swarm, Figure? engine) => engine is { P50Seconds: var p50 } && double.IsFinite(p50)
        ? swarm with
        {
            Floor = $"{Stats.Seconds(p50)} single engine",
            Ratio = string.Create(CultureInfo.InvariantCulture, $"{swarm.P50Seconds / p50:0.0}× single engine"),
        }
        : swarm with { Floor = "single engine not measured" };

    private static IReadOnlyList<Figure> NotMeasured(string reason) =>
        [Figure.NotMeasured(CreateName, Target, reason), Figure.NotMeasured(RestoreName, Target, reason)];
}
