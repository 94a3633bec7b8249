using System.Diagnostics;
using Raworc.Benchmarks;
using Raworc.Tests.Infrastructure;

// Starts the system exactly as the computer tests do, measures each figure of issue 8 and the container floors of
// issues 11 and 14, cleans up, prints one table. Phases get 14 minutes in all; whatever is not measured by then is
// printed as not measured.
// Standard output carries the table alone: everything else that writes to Console.Out (the AppHost's console
// logger, made when the fixture builds the host) goes to standard error from here on.
var table = Console.Out;
Console.SetOut(Console.Error);
// `--desktop`: only the desktop rows of issue 16, in a run of a few minutes.
if (args is ["--desktop"])
{
    await DesktopBenchmarks.RunAloneAsync(table, 5);
    return;
}
// `--warm-pool`: only the warm-pool row (issue 14, goal 3), with its step breakdown, in a run of a few minutes.
if (args is ["--warm-pool"])
{
    await WarmPoolBenchmark.RunAloneAsync(table, 20);
    return;
}
var runStarted = Stopwatch.GetTimestamp();
void Log(string text) => Console.Error.WriteLine($"[{Stopwatch.GetElapsedTime(runStarted).TotalSeconds,5:0}s] {text}");
// `--swarm`: only the Swarm column (issue 17): create → idle and restore → idle on the single engine, then on the 2-node
// test cluster that eng/swarm-cluster.sh brings up (and takes down after), in a run of a few minutes.
if (args is ["--swarm"])
{
    await SwarmBenchmark.RunAloneAsync(table, Log, 10, 5);
    return;
}
// `--throughput`: only the four throughput rows (GET and POST, own port and proxy) on two fresh sessions; a short run
// (about a minute plus the system's start) for comparing request-path changes back to back.
var throughputOnly = args.Contains("--throughput");
// `--no-otlp` and `--api-env NAME=VALUE`: variants of the system for comparisons (BenchFixture).
var (fixture, variant) = BenchFixture.FromArguments(args);
// `--seconds N`: the throughput rows' window (5 s by default); longer gives more requests per CPU tick on a busy machine.
var window = TimeSpan.FromSeconds(args.SkipWhile(a => a != "--seconds").Skip(1).Select(a => int.Parse(a, System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault(5));
// `--messages`: only the message rows (first answers in computers that never answered, later answers, and their splits by
// the API's spans) on six fresh sessions; a short run for comparing changes to a turn's path back to back.
var messagesOnly = args.Contains("--messages");
// `--cold-start`: only create → idle (20 sessions), the container floors and closed → restored → idle (10 cycles): issue 14's
// goal 1 in a run of a few minutes, for comparing changes to a computer's start back to back.
var coldStartOnly = args.Contains("--cold-start");
// `--history`: only the long-history row (a session of 100,000 messages against a fresh one, closed, messaged, answered).
var historyOnly = args.Contains("--history");
// `--watchers`: only the density row (100 idle sessions) and the watcher rows over its sessions (the one-session row
// twice); a short run for comparing changes to a wake-up's path back to back.
var watchersOnly = args.Contains("--watchers");
// A run of some rows only: the warm-pool and Swarm systems are not started.
var someRowsOnly = throughputOnly || messagesOnly || coldStartOnly || historyOnly || watchersOnly;
using var phaseBudget = new CancellationTokenSource(TimeSpan.FromMinutes(14));
var token = phaseBudget.Token;
var figures = new List<Figure>();
var machine = "unknown";
var cleanup = "nothing to clean up";
HttpClient? http = null;
BenchApi? api = null;

async Task MeasureAsync(string name, string target, Func<Task<Figure>> measure)
{
    Log($"measuring: {name}");
    try
    {
        figures.Add(await measure());
    }
    catch (Exception ex)
    {
        Log($"failed: {name}: {ex.GetType().Name}: {ex.Message}");
        figures.Add(Figure.NotMeasured(name, target, token.IsCancellationRequested ? "the run's time budget ran out" : ex.Message));
    }
}

// A phase that prints several rows (a figure and where its time goes).
async Task MeasureRowsAsync(string name, string target, Func<Task<Figure[]>> measure)
{
    Log($"measuring: {name}");
    try
    {
        figures.AddRange(await measure());
    }
    catch (Exception ex)
    {
        Log($"failed: {name}: {ex.GetType().Name}: {ex.Message}");
        figures.Add(Figure.NotMeasured(name, target, token.IsCancellationRequested ? "the run's time budget ran out" : ex.Message));
    }
}

// Issue 14, goal 2, and the message row: first answers in computers that never answered (before any other answers), then
// messages one at a time to another session.
async Task MeasureMessagesAsync(BenchContext context, IReadOnlyList<Guid> neverAnswered, Guid chatty, int count)
{
    await MeasureRowsAsync(MessageBenchmarks.FirstName, MessageBenchmarks.FirstTarget,
        () => MessageBenchmarks.FirstAnswerAsync(context, neverAnswered, token));
    await MeasureRowsAsync(MessageBenchmarks.LatencyName, MessageBenchmarks.LatencyTarget,
        () => MessageBenchmarks.LatencyAsync(context, chatty, count, token));
}

// Issue 14's throughput rows: GET on one idle session and POST …/messages to another with a live agent, each against the
// API's own port (no development proxy) and through the proxy.
async Task MeasureThroughputAsync(BenchContext context, Guid readSession, Guid postSession)
{
    var direct = await ApiScaleBenchmarks.DirectAddressAsync(context, token);
    var cost = await ApiCost.FindAsync(context, token);
    var directContext = direct is null ? null : context with { BaseAddress = direct };
    const string ViaProxy = " (through the DCP proxy)";
    var ownPort = direct is null ? " (own port not found: through the proxy)" : $" (API's own port {direct.Port})";
    await MeasureAsync(LoadBenchmarks.GetName + ownPort, LoadBenchmarks.GetTarget,
        () => LoadBenchmarks.GetThroughputAsync(directContext ?? context, readSession, 32, window, token, ownPort, cost));
    await MeasureAsync(LoadBenchmarks.GetName + ViaProxy, LoadBenchmarks.GetTarget,
        () => LoadBenchmarks.GetThroughputAsync(context, readSession, 32, window, token, ViaProxy, cost));
    await MeasureAsync(MessageBenchmarks.PostName + ownPort, MessageBenchmarks.PostTarget,
        () => MessageBenchmarks.PostThroughputAsync(directContext ?? context, postSession, 32, window, token, ownPort, cost));
    await MeasureAsync(MessageBenchmarks.PostName + ViaProxy, MessageBenchmarks.PostTarget,
        () => MessageBenchmarks.PostThroughputAsync(context, postSession, 32, window, token, ViaProxy, cost));
}

// The density row (100 idle sessions, kept in kept), then the watcher rows over its sessions: the one-session row
// oneSessionRuns times (numbered when more than once), the 100-session row once. Returns the API address they used.
async Task<Uri> MeasureDensityAndWatchersAsync(BenchContext context, List<Guid> kept, int oneSessionRuns)
{
    await MeasureAsync(LoadBenchmarks.DensityName, LoadBenchmarks.DensityTarget,
        () => LoadBenchmarks.DensityAsync(context, kept, 100, 5, 8, TimeSpan.FromSeconds(5), token));
    var address = await ApiScaleBenchmarks.DirectAddressAsync(context, token) ?? context.BaseAddress;
    if (kept.Count > 0)
    {
        foreach (var run in Enumerable.Range(1, oneSessionRuns))
        {
            var name = oneSessionRuns == 1 ? ApiScaleBenchmarks.WatchOneName : $"{ApiScaleBenchmarks.WatchOneName} (run {run} of {oneSessionRuns})";
            await MeasureAsync(name, ApiScaleBenchmarks.WatchTarget,
                () => ApiScaleBenchmarks.WatchersAsync(context, address, name, [kept[0]], 1000, token));
        }
        await MeasureAsync(ApiScaleBenchmarks.WatchSpreadName, ApiScaleBenchmarks.WatchTarget,
            () => ApiScaleBenchmarks.WatchersAsync(context, address, ApiScaleBenchmarks.WatchSpreadName, [.. kept.Take(100)], 1000, token));
    }
    return address;
}

try
{
    Log("starting the system (Postgres, Redis, API, stand-in model)");
    await fixture.InitializeAsync().WaitAsync(token);
    machine = await Machine.DescribeAsync(fixture.Docker, token) + (variant.Length > 0 ? $"; variant: {variant}" : "");
    var (operatorName, operatorClient) = await fixture.CreateOperatorAsync("bench");
    operatorClient.Dispose();
    var bearer = await fixture.LoginAsync(operatorName, "operator-pass-1");
    using (var probe = fixture.CreateApiClient())
    {
        http = Load.CreateClient(probe.BaseAddress!, bearer);
    }
    api = new BenchApi(http);
    var context = new BenchContext(fixture, api, http.BaseAddress!, bearer);
    var kept = new List<Guid>();
    if (historyOnly)
    {
        await MeasureAsync(HistoryBenchmark.Name, HistoryBenchmark.Target, () => HistoryBenchmark.MeasureAsync(context, 5, token));
        goto Measured;
    }
    if (throughputOnly || messagesOnly || watchersOnly)
    {
        foreach (var _ in Enumerable.Range(0, throughputOnly ? 2 : watchersOnly ? 1 : 6))
        {
            var created = await api.CreateAsync(BenchContext.KeepTimeoutSeconds, token);
            await api.WaitForStateAsync(created.Id, "idle", BenchContext.FastPoll, BenchContext.StateTimeout, token);
            kept.Add(created.Id);
        }
        if (throughputOnly)
        {
            await MeasureThroughputAsync(context, kept[0], kept[1]);
        }
        else if (watchersOnly)
        {
            await MeasureDensityAndWatchersAsync(context, kept, oneSessionRuns: 2);
        }
        else
        {
            await MeasureMessagesAsync(context, kept.GetRange(1, 5), kept[0], 50);
        }
        goto Measured;
    }

    await MeasureAsync(LifecycleBenchmarks.CreateName, LifecycleBenchmarks.CreateTarget,
        () => LifecycleBenchmarks.CreateToIdleAsync(context, 20, kept, token));
    // After create → idle: the API has made the computers' network by then, and the load is that of the create phase.
    Log("measuring: container floors (bare, hardened, hardened under runsc)");
    FloorSet floors;
    try
    {
        floors = await Floors.MeasureAsync(fixture.Docker, ComputersAppFixture.Image, 9, token);
    }
    catch (Exception ex)
    {
        Log($"failed: container floors: {ex.GetType().Name}: {ex.Message}");
        var missing = new Floor("—", [], token.IsCancellationRequested ? "the run's time budget ran out" : ex.Message);
        floors = new FloorSet(missing, missing, missing);
    }
    var createIndex = figures.FindIndex(f => f.Name == LifecycleBenchmarks.CreateName);
    figures.AddRange(Floors.Rows(floors, createIndex >= 0 ? figures[createIndex] : null));
    if (createIndex >= 0)
    {
        figures[createIndex] = Floors.Compare(figures[createIndex], floors);
    }
    if (coldStartOnly)
    {
        if (kept.Count > 0)
        {
            await MeasureAsync(LifecycleBenchmarks.RestoreName, LifecycleBenchmarks.RestoreTarget,
                async () => Floors.Compare(await LifecycleBenchmarks.RestoreAsync(context, kept[0], 10, token), floors));
        }
        goto Measured;
    }
    try
    {
        Log("measuring: desktop computers beside plain ones");
        figures.AddRange(await DesktopBenchmarks.MeasureAsync(context, 5, token));
    }
    catch (Exception ex)
    {
        Log($"failed: desktop computers: {ex.GetType().Name}: {ex.Message}");
        figures.Add(Figure.NotMeasured(DesktopBenchmarks.CreateName, "—", token.IsCancellationRequested ? "the run's time budget ran out" : ex.Message));
    }
    // Four sessions serve the single-session phases: messages, restore, reads, writes.
    if (kept.Count >= 4)
    {
        await MeasureAsync(LoadBenchmarks.MemoryName, LoadBenchmarks.MemoryTarget, () => LoadBenchmarks.MemoryAsync(context, kept, token));
        // Issue 14, goal 2: computers that never answered (kept[4..8], untouched so far), before kept[0] answers 50.
        if (kept.Count >= 9)
        {
            await MeasureMessagesAsync(context, kept.GetRange(4, 5), kept[0], 50);
        }
        else
        {
            await MeasureRowsAsync(MessageBenchmarks.LatencyName, MessageBenchmarks.LatencyTarget,
                () => MessageBenchmarks.LatencyAsync(context, kept[0], 50, token));
        }
        await MeasureAsync(LifecycleBenchmarks.RestoreName, LifecycleBenchmarks.RestoreTarget,
            async () => Floors.Compare(await LifecycleBenchmarks.RestoreAsync(context, kept[1], 10, token), floors));
        await MeasureThroughputAsync(context, kept[2], kept[3]);
        // Its backlog of thousands of messages would keep the agent and the API busy during the next phases.
        await api.DeleteAsync(kept[3], token);
        kept.RemoveAt(3);
    }
    await MeasureAsync(HistoryBenchmark.Name, HistoryBenchmark.Target, () => HistoryBenchmark.MeasureAsync(context, 5, token));
    await MeasureAsync(LifecycleBenchmarks.DeadlineName, LifecycleBenchmarks.DeadlineTarget,
        () => LifecycleBenchmarks.IdleDeadlineAsync(context, 10, 5, token));
    var watchAddress = await MeasureDensityAndWatchersAsync(context, kept, oneSessionRuns: 1);
    Log("inserting 100,000 closed sessions into Postgres");
    try
    {
        var before = await ApiScaleBenchmarks.TimeFirstPageAsync(context, watchAddress, 20, token);
        await ApiScaleBenchmarks.InsertClosedSessionsAsync(context, operatorName, 100_000, token);
        figures.AddRange(await ApiScaleBenchmarks.ListAsync(context, watchAddress, 20, before, token));
        await ApiScaleBenchmarks.DeleteInsertedAsync(context, token);
    }
    catch (Exception ex)
    {
        Log($"failed: session list: {ex.GetType().Name}: {ex.Message}");
        figures.Add(Figure.NotMeasured(ApiScaleBenchmarks.ListFirstName, ApiScaleBenchmarks.ListTarget, ex.Message));
    }
Measured:;
}
catch (Exception ex)
{
    Log($"the run stopped early: {ex.GetType().Name}: {ex.Message}");
}
finally
{
    if (api is not null)
    {
        Log($"deleting the {api.Created.Count} sessions this run created");
        cleanup = await Cleanup.DeleteSessionsAsync(fixture, api, TimeSpan.FromMinutes(2));
    }
    Log("stopping the system");
    await fixture.DisposeAsync();
    http?.Dispose();
}

// The warm pool in a system of its own, with its own time budget (the main system runs without a pool).
using (var warmBudget = new CancellationTokenSource(TimeSpan.FromMinutes(3)))
if (!someRowsOnly)
{
    await MeasureAsync(WarmPoolBenchmark.Name, WarmPoolBenchmark.Target, () => WarmPoolBenchmark.CreateToIdleAsync(20, warmBudget.Token));
}

// The Swarm column in a system of its own, on a cluster brought up for it and taken down after, with its own budget.
if (!someRowsOnly)
{
    using var swarmBudget = new CancellationTokenSource(TimeSpan.FromMinutes(6));
    try
    {
        figures.AddRange(await SwarmBenchmark.MeasureAsync(figures.FirstOrDefault(f => f.Name == LifecycleBenchmarks.CreateName),
            figures.FirstOrDefault(f => f.Name == LifecycleBenchmarks.RestoreName), 10, 5, Log, swarmBudget.Token));
    }
    catch (Exception ex)
    {
        Log($"failed: Swarm rows: {ex.GetType().Name}: {ex.Message}");
        figures.Add(Figure.NotMeasured(SwarmBenchmark.CreateName, "—", ex.Message));
    }
}

Report.Print(table, machine, Stopwatch.GetElapsedTime(runStarted), figures, cleanup);
