using System.Diagnostics;
using Raworc.Tests.Infrastructure;

namespace Raworc.Benchmarks;

/// <summary>
/// Create → idle when a started computer waits in the warm pool (issue 14, goal 3), in a system of its own: the main run
/// keeps the pool off so that its create → idle stays the cold start it is compared with the container floors.
/// </summary>
internal static class WarmPoolBenchmark
{
    public const string Name = "create → `idle` (warm pool)";
    public const string Target = "p50 ≤ 0.15 s";

    /// <summary>
    /// <c>--warm-pool</c>: only this row, in a run of a few minutes (the system's start included), for comparing changes of
    /// the claim path back to back.
    /// </summary>
    public static async Task RunAloneAsync(TextWriter table, int count)
    {
        var started = Stopwatch.GetTimestamp();
        using var budget = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var machine = "unknown";
        Figure figure;
        try
        {
            figure = await CreateToIdleAsync(count, budget.Token, describe => machine = describe);
        }
        catch (Exception ex)
        {
            figure = Figure.NotMeasured(Name, Target, budget.IsCancellationRequested ? "the run's time budget ran out" : ex.Message);
        }
        Report.Print(table, machine, Stopwatch.GetElapsedTime(started), [figure], "the warm-pool phase deletes its sessions");
    }

    /// <summary>
    /// Starts a system with <see cref="WarmPoolAppFixture.PoolSize"/> warm computers, then <paramref name="count"/> times waits
    /// until a warm computer's agent waits on its claim and times POST → the first GET showing <c>idle</c>. The note splits
    /// each create into its steps by the client's, the API's and the engine's timestamps (one host clock).
    /// </summary>
    /// <param name="count">Creates, one at a time.</param>
    /// <param name="cancellationToken">The phase's budget.</param>
    /// <param name="machine">Receives the machine's description once the system runs (null: not wanted).</param>
    public static async Task<Figure> CreateToIdleAsync(int count, CancellationToken cancellationToken, Action<string>? machine = null)
    {
        var fixture = new WarmPoolAppFixture();
        await fixture.InitializeAsync().WaitAsync(cancellationToken);
        try
        {
            machine?.Invoke(await Machine.DescribeAsync(fixture.Docker, cancellationToken));
            var (name, client) = await fixture.CreateOperatorAsync("warm-bench");
            client.Dispose();
            var bearer = await fixture.LoginAsync(name, "operator-pass-1");
            using var probe = fixture.CreateApiClient();
            using var http = Load.CreateClient(probe.BaseAddress!, bearer);
            var api = new BenchApi(http);
            var elapsed = new List<double>();
            var steps = new WarmSteps();
            var claimed = 0;
            for (var i = 0; i < count; i++)
            {
                var waiting = await fixture.WaitForPoolAsync(1);
                var posted = DateTimeOffset.UtcNow;
                var started = Stopwatch.GetTimestamp();
                var created = await api.CreateAsync(BenchContext.KeepTimeoutSeconds, cancellationToken);
                var answered = DateTimeOffset.UtcNow;
                var idle = await api.WaitForStateAsync(created.Id, "idle", WarmPoll, BenchContext.StateTimeout, cancellationToken);
                elapsed.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
                var seen = DateTimeOffset.UtcNow;
                if (waiting.Contains(created.Id))
                {
                    claimed++;
                    steps.Add(posted, answered, created.CreatedAt, await Computers.AgentLogTimesAsync(fixture.Docker, created.Id, AgentMarks, cancellationToken),
                        idle.StartedAt!.Value, seen);
                }
            }
            foreach (var id in api.Created.Keys)
            {
                await api.DeleteAsync(id, cancellationToken);
            }
            var (p50, p95) = (Stats.P50(elapsed), Stats.P95(elapsed));
            return new Figure(Name, Target, Stats.Seconds(p50), Stats.Seconds(p95), count, p50 <= 0.15,
                $"one at a time, each once a warm computer waits; {claimed} of {count} took one; Computers:WarmPool={WarmPoolAppFixture.PoolSize}; " +
                $"GET polled every {WarmPoll.TotalMilliseconds:0} ms; {steps.Describe()}")
                { P50Seconds = p50 };
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }

    // Small against the 150 ms target: the poll's own interval adds half of it on average.
    private static readonly TimeSpan WarmPoll = TimeSpan.FromMilliseconds(5);

    // The agent's log lines that mark its steps (Raworc.HostAgent: PoolClaim and AgentService).
    private const string ClaimedMark = "Warm computer: claimed by session";
    private const string ServingMark = "Host agent serving session";
    private static readonly string[] AgentMarks = [ClaimedMark, ServingMark];

    /// <summary>Where a warm create spends its time, step by step (medians over the creates that took a warm computer).</summary>
    private sealed class WarmSteps
    {
        private readonly List<double> _post = [];
        private readonly List<double> _toStored = [];
        private readonly List<double> _toClaimed = [];
        private readonly List<double> _toServing = [];
        private readonly List<double> _toReady = [];
        private readonly List<double> _toSeen = [];

        public void Add(DateTimeOffset posted, DateTimeOffset answered, DateTimeOffset createdAt, IReadOnlyDictionary<string, DateTimeOffset> agent,
            DateTimeOffset ready, DateTimeOffset seen)
        {
            _post.Add((answered - posted).TotalSeconds);
            _toStored.Add((createdAt - posted).TotalSeconds);
            var claimed = agent.GetValueOrDefault(ClaimedMark, createdAt);
            var serving = agent.GetValueOrDefault(ServingMark, claimed);
            _toClaimed.Add((claimed - createdAt).TotalSeconds);
            _toServing.Add((serving - claimed).TotalSeconds);
            _toReady.Add((ready - serving).TotalSeconds);
            _toSeen.Add((seen - ready).TotalSeconds);
        }

        private static string Range(List<double> values) =>
            values.Count == 0 ? "—" : $"{Stats.Millis(Stats.P50(values))} ({Stats.Millis(values.Min())}–{Stats.Millis(values.Max())})";

        public string Describe() =>
            $"steps, p50 (min–max): POST sent → created_at {Range(_toStored)}; created_at → agent has the claim, files written {Range(_toClaimed)}; " +
            $"→ agent built, loop running {Range(_toServing)}; → ready stored (setup, POST idle; started_at) {Range(_toReady)}; " +
            $"→ a GET shows idle {Range(_toSeen)}; the POST itself took {Range(_post)}";
    }
}
