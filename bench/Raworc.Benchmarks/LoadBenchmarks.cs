using System.Diagnostics;
using System.Net;

namespace Raworc.Benchmarks;

/// <summary>Read throughput, memory per computer, and 50 idle sessions at once.</summary>
internal static class LoadBenchmarks
{
    public const string GetName = "`GET /sessions/{id}` throughput, 32 clients";
    public const string GetTarget = "≥ 3,000 req/s";
    public const string MemoryName = "idle computer memory (agent RSS)";
    public const string MemoryTarget = "p95 ≤ 20 MiB agent RSS, ≤ 25 MiB container";
    public const string DensityName = "100 idle sessions at once: `GET /sessions/{id}` latency";
    public const string DensityTarget = "all `idle`, p95 ≤ 50 ms";

    public static async Task<Figure> GetThroughputAsync(BenchContext context, Guid id, int clients, TimeSpan duration, CancellationToken cancellationToken,
        string route = "", ApiCost? cost = null)
    {
        using var client = Load.CreateClient(context.BaseAddress, context.Token);
        var path = $"/api/v0/sessions/{id}";
        var cpu = CpuSampler.Start();
        var result = await Load.RunAsync(client, clients, Load.Steady(cost), duration,
            _ => new HttpRequestMessage(HttpMethod.Get, path), HttpStatusCode.OK, cancellationToken, cost);
        var usage = cpu.Stop(duration.TotalSeconds + result.WarmUpSeconds);
        return new Figure(GetName + route, GetTarget, Stats.Rate(result.Rate), "—", result.Ok, result.Rate >= 3000,
            $"{duration.TotalSeconds:0} s after {result.WarmUp}, one idle session; latency p50 {Stats.Millis(Stats.P50(result.Latencies))}, " +
            $"p95 {Stats.Millis(Stats.P95(result.Latencies))}; {MessageBenchmarks.Failures(result)}; {result.Cost}; {usage}");
    }

    /// <summary>Agent RSS and container memory of each given idle computer, read from <c>/proc</c> and the cgroup inside it.</summary>
    public static async Task<Figure> MemoryAsync(BenchContext context, IReadOnlyList<Guid> sessions, CancellationToken cancellationToken)
    {
        var memories = new List<ComputerMemory>();
        foreach (var id in sessions)
        {
            cancellationToken.ThrowIfCancellationRequested();
            memories.Add(await Computers.MemoryAsync(context.Fixture, id));
        }
        var rss = memories.Select(m => m.AgentRss).ToList();
        var containers = memories.Select(m => m.Container).Where(double.IsFinite).ToList();
        var p95 = Stats.P95(rss);
        const double MiB = 1024 * 1024;
        return new Figure(MemoryName, MemoryTarget, Stats.MiB(Stats.P50(rss)), Stats.MiB(p95), rss.Count,
            p95 <= 20 * MiB && containers.Count > 0 && Stats.P95(containers) <= 25 * MiB,
            $"one reading per idle computer (judged on p95); whole container (cgroup usage − inactive file, as docker stats) " +
            (containers.Count > 0 ? $"p50 {Stats.MiB(Stats.P50(containers))}, p95 {Stats.MiB(Stats.P95(containers))}" : "not readable"));
    }

    /// <summary>
    /// Tops the kept idle sessions up to <paramref name="total"/> (created <paramref name="wave"/> at a time), checks that all are
    /// idle, then measures GET latency with <paramref name="clients"/> clients over all of them and checks again.
    /// </summary>
    public static async Task<Figure> DensityAsync(BenchContext context, List<Guid> kept, int total, int wave, int clients, TimeSpan duration,
        CancellationToken cancellationToken)
    {
        var createToIdle = new List<double>();
        var failures = new List<string>();
        var cpu = CpuSampler.Start();
        var filling = Stopwatch.GetTimestamp();
        while (kept.Count + failures.Count < total)
        {
            var batch = await Task.WhenAll(Enumerable.Range(0, Math.Min(wave, total - kept.Count - failures.Count)).Select(async _ =>
            {
                var started = Stopwatch.GetTimestamp();
                var created = await context.Api.CreateAsync(BenchContext.KeepTimeoutSeconds, cancellationToken);
                try
                {
                    await context.Api.WaitForStateAsync(created.Id, "idle", TimeSpan.FromMilliseconds(100), BenchContext.StateTimeout, cancellationToken);
                    return (Id: (Guid?)created.Id, Seconds: Stopwatch.GetElapsedTime(started).TotalSeconds, Error: (string?)null);
                }
                catch (BenchmarkException ex)
                {
                    // A session that never became idle is part of the result, not the end of the phase.
                    return (Id: null, Seconds: double.NaN, Error: ex.Message);
                }
            }));
            kept.AddRange(batch.Where(b => b.Id is not null).Select(b => b.Id!.Value));
            createToIdle.AddRange(batch.Where(b => b.Id is not null).Select(b => b.Seconds));
            failures.AddRange(batch.Where(b => b.Error is not null).Select(b => b.Error!));
        }
        var fillUsage = cpu.Stop(Stopwatch.GetElapsedTime(filling).TotalSeconds, top: 3);
        var idleBefore = await CountIdleAsync(context, kept, cancellationToken);
        cpu = CpuSampler.Start();

        using var client = Load.CreateClient(context.BaseAddress, context.Token);
        var paths = kept.Select(id => $"/api/v0/sessions/{id}").ToArray();
        var result = await Load.RunAsync(client, clients, Load.Fixed(TimeSpan.FromSeconds(1)), duration,
            n => new HttpRequestMessage(HttpMethod.Get, paths[n % paths.Length]), HttpStatusCode.OK, cancellationToken);
        var usage = cpu.Stop(duration.TotalSeconds + 1);
        var idleAfter = await CountIdleAsync(context, kept, cancellationToken);

        var p95 = Stats.P95(result.Latencies);
        var allIdle = idleBefore == total && idleAfter == total;
        return new Figure(DensityName, DensityTarget, Stats.Millis(Stats.P50(result.Latencies)), Stats.Millis(p95), result.Ok,
            allIdle && p95 <= 0.05,
            $"{idleBefore}/{total} idle before and {idleAfter}/{total} after; {clients} clients for {duration.TotalSeconds:0} s at {Stats.Rate(result.Rate)}; " +
            $"the {createToIdle.Count} added {wave} at a time, create → idle p50 {Stats.Seconds(Stats.P50(createToIdle))}, " +
            $"p95 {Stats.Seconds(Stats.P95(createToIdle))}, while adding: {fillUsage}; " +
            (failures.Count > 0 ? $"{failures.Count} never became idle (first: {failures[0]}); " : "") +
            $"{MessageBenchmarks.Failures(result)}; during the reads: {usage}");
    }

    private static async Task<int> CountIdleAsync(BenchContext context, IEnumerable<Guid> sessions, CancellationToken cancellationToken)
    {
        var idle = 0;
        foreach (var id in sessions)
        {
            idle += (await context.Api.GetAsync(id, cancellationToken)).State == "idle" ? 1 : 0;
        }
        return idle;
    }
}
