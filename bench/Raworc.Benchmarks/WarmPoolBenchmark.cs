using System.Diagnostics;
using System.Globalization;
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
    /// each create into its steps by the client's times, the session's timestamps and the API's spans (one host clock).
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
            var creates = new List<WarmCreate>();
            var claimed = 0;
            for (var i = 0; i < count; i++)
            {
                var waiting = await fixture.WaitForPoolAsync(1);
                var posted = DateTimeOffset.UtcNow;
                var started = Stopwatch.GetTimestamp();
                var created = await api.CreateAsync(BenchContext.KeepTimeoutSeconds, cancellationToken);
                var answered = DateTimeOffset.UtcNow;
                var polls = await PollUntilIdleAsync(api, created.Id, cancellationToken);
                elapsed.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
                if (waiting.Contains(created.Id))
                {
                    claimed++;
                    creates.Add(new WarmCreate(created.Id, posted, answered, created.CreatedAt, polls[^1].Session.StartedAt!.Value, polls));
                }
            }
            // The API exports its spans in batches every 200 ms: the last create's are in within a second or two.
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            var steps = new WarmSteps();
            foreach (var create in creates)
            {
                steps.Add(create, fixture.Traces.Spans);
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

    /// <summary>One <c>GET</c> of the session while waiting for <c>idle</c>: when the client sent it, when the answer was read, what it said.</summary>
    private sealed record Poll(DateTimeOffset Sent, DateTimeOffset Received, SessionView Session);

    /// <summary>One create that took a warm computer, with the client's times and every poll until <c>idle</c>.</summary>
    private sealed record WarmCreate(Guid Id, DateTimeOffset Posted, DateTimeOffset Answered, DateTimeOffset CreatedAt, DateTimeOffset StartedAt,
        IReadOnlyList<Poll> Polls);

    /// <summary>Polls <c>GET /sessions/{id}</c> every <see cref="WarmPoll"/> until <c>idle</c>, keeping every poll (the last shows <c>idle</c>).</summary>
    private static async Task<List<Poll>> PollUntilIdleAsync(BenchApi api, Guid id, CancellationToken cancellationToken)
    {
        var polls = new List<Poll>();
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var sent = DateTimeOffset.UtcNow;
            var session = await api.GetAsync(id, cancellationToken);
            polls.Add(new Poll(sent, DateTimeOffset.UtcNow, session));
            if (session.State == "idle")
            {
                return polls;
            }
            if (session.State == "errored")
            {
                throw new BenchmarkException($"session {id} errored: {session.Error}");
            }
            if (Stopwatch.GetElapsedTime(started) > BenchContext.StateTimeout)
            {
                throw new BenchmarkException($"session {id} was still {session.State}, not idle, after {BenchContext.StateTimeout.TotalSeconds:0} s");
            }
            await Task.Delay(WarmPoll, cancellationToken);
        }
    }

    private const string IdleRoute = "POST /api/v0/sessions/{id}/idle";
    private const string GetRoute = "GET /api/v0/sessions/{id}";
    private const string ClaimRoute = "GET /api/v0/pool/claim";

    /// <summary>
    /// Where a warm create spends its time, step by step (medians over the creates that took a warm computer), from the
    /// client's times, the session's timestamps and the API's spans (one host clock). The agent's steps are the gaps
    /// between the API's spans of its calls (the claim's answer, the ready report), not its log lines' engine timestamps,
    /// which the engine stamps when it reads the container's output and which lag under load.
    /// </summary>
    private sealed class WarmSteps
    {
        private readonly List<double> _post = [];
        private readonly List<double> _toStored = [];
        private readonly List<double> _toClaimed = [];
        private readonly List<double> _toReport = [];
        private readonly List<double> _toStamped = [];
        private readonly List<double> _toLastStatement = [];
        private readonly List<double> _toAnswered = [];
        private readonly List<double> _toShownGet = [];
        private readonly List<double> _shownRead = [];
        private readonly List<double> _toSeen = [];
        private readonly List<double> _clientGet = [];
        private readonly List<double> _serverGet = [];
        private readonly List<double> _pollsAfterReport = [];
        private readonly List<double> _readyStatements = [];
        private int _split;
        private int _staleAfterReport;

        public void Add(WarmCreate create, IReadOnlyList<ReceivedSpan> spans)
        {
            var seen = create.Polls[^1].Received;
            _post.Add((create.Answered - create.Posted).TotalSeconds);
            _toStored.Add((create.CreatedAt - create.Posted).TotalSeconds);
            _toSeen.Add((seen - create.StartedAt).TotalSeconds);
            _clientGet.AddRange(create.Polls.Select(p => (p.Received - p.Sent).TotalSeconds));
            var path = $"/api/v0/sessions/{create.Id}";
            var idle = spans.FirstOrDefault(s => s.Kind == ReceivedSpan.Server && Route(s) == IdleRoute && PathOf(s) == path + "/idle");
            var gets = spans.Where(s => s.Kind == ReceivedSpan.Server && Route(s) == GetRoute && PathOf(s) == path).OrderBy(s => s.StartUnixNano).ToList();
            var createdAt = Nanos(create.CreatedAt);
            // The claim long-poll answered with this session: the first 200 of the claim route to end after the claim was stored.
            var claim = spans.Where(s => s.Kind == ReceivedSpan.Server && Route(s) == ClaimRoute && s.EndUnixNano >= createdAt
                    && s.Attributes.GetValueOrDefault("http.response.status_code") == "200")
                .MinBy(s => s.EndUnixNano);
            if (idle is null || claim is null || gets.Count != create.Polls.Count)
            {
                return;
            }
            _split++;
            _serverGet.AddRange(gets.Select(g => Seconds(g.StartUnixNano, g.EndUnixNano)));
            // Npgsql traces the transaction's statements, not its COMMIT: the commit lies between the last one's end and the
            // ready report's answer.
            var statements = TurnSplit.Descendants(spans, idle).Where(s => s.Kind == ReceivedSpan.Client && IsPostgres(s)).ToList();
            var lastStatement = statements.Select(s => s.EndUnixNano).DefaultIfEmpty(idle.EndUnixNano).Max();
            _readyStatements.Add(statements.Count);
            var stamped = Nanos(create.StartedAt);
            var shown = gets[^1];
            _toClaimed.Add(Seconds(createdAt, claim.EndUnixNano));
            _toReport.Add(Seconds(claim.EndUnixNano, idle.StartUnixNano));
            _toStamped.Add(Seconds(idle.StartUnixNano, stamped));
            _toLastStatement.Add(Seconds(stamped, lastStatement));
            _toAnswered.Add(Seconds(lastStatement, idle.EndUnixNano));
            _toShownGet.Add(Seconds(idle.EndUnixNano, shown.StartUnixNano));
            _shownRead.Add((seen - FromNanos(shown.StartUnixNano)).TotalSeconds);
            // A GET begun after the ready report was answered (its commit done) that still said init would be a real
            // delay on the read path (a cache, a lag); a GET begun before it may say either.
            _staleAfterReport += gets.Zip(create.Polls).Count(pair => pair.First.StartUnixNano >= idle.EndUnixNano && pair.Second.Session.State != "idle");
            _pollsAfterReport.Add(gets.Count(g => g.StartUnixNano >= idle.StartUnixNano));
            var ms = (ulong at) => (Seconds(createdAt, at) * 1000).ToString("0.0", CultureInfo.InvariantCulture);
            Console.Error.WriteLine($"warm create {create.Id}: claim answered +{ms(claim.EndUnixNano)} ms, ready report +{ms(idle.StartUnixNano)}…+{ms(idle.EndUnixNano)}, " +
                $"started_at +{ms(stamped)}, last statement end +{ms(lastStatement)}; GETs (API start…end, state): " +
                string.Join(", ", gets.Zip(create.Polls, (g, p) => $"+{ms(g.StartUnixNano)}…+{ms(g.EndUnixNano)} {p.Session.State}")));
        }

        private static string Range(List<double> values) =>
            values.Count == 0 ? "—" : $"{Stats.Millis(Stats.P50(values))} ({Stats.Millis(values.Min())}–{Stats.Millis(values.Max())})";

        public string Describe() =>
            $"steps, p50 (min–max): POST sent → created_at {Range(_toStored)}; created_at → the agent's claim long-poll answered {Range(_toClaimed)}; " +
            $"→ its ready report (POST idle) arrives (files written, agent completed, loop started) {Range(_toReport)}; → started_at stamped {Range(_toStamped)}; " +
            $"→ the ready transaction's last statement ends {Range(_toLastStatement)}; → ready report answered (commit, response) {Range(_toAnswered)}; " +
            $"→ the GET that shows idle begins {Range(_toShownGet)}; → its answer read by the client {Range(_shownRead)}; " +
            $"started_at → a GET shows idle {Range(_toSeen)}; split from the API's spans for {_split} creates; " +
            $"GETs begun after the ready report was answered that still said init: {_staleAfterReport}; " +
            $"Postgres statements in the ready report, p50 {Stats.P50(_readyStatements):0} (its COMMIT not counted: Npgsql does not trace it); " +
            $"a GET took {Stats.Millis(Stats.P50(_clientGet))} p50 at the client, {Stats.Millis(Stats.P50(_serverGet))} in the API; " +
            $"GETs begun while the ready report ran or after, p50 {Stats.P50(_pollsAfterReport):0}; the POST itself took {Range(_post)}";

        private static string Route(ReceivedSpan span) =>
            $"{span.Attributes.GetValueOrDefault("http.request.method")} {span.Attributes.GetValueOrDefault("http.route")}";

        private static string? PathOf(ReceivedSpan span) => span.Attributes.GetValueOrDefault("url.path");

        private static bool IsPostgres(ReceivedSpan span) =>
            (span.Attributes.GetValueOrDefault("db.system") ?? span.Attributes.GetValueOrDefault("db.system.name")) == "postgresql";

        private static double Seconds(ulong from, ulong to) => ((double)to - from) / 1e9;

        private static ulong Nanos(DateTimeOffset time) => (ulong)(time - DateTimeOffset.UnixEpoch).Ticks * 100;

        private static DateTimeOffset FromNanos(ulong nanos) => DateTimeOffset.UnixEpoch.AddTicks((long)(nanos / 100));
    }
}
