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
    /// Starts a system with <see cref="WarmPoolAppFixture.PoolSize"/> warm computers, then <paramref name="count"/> times waits
    /// until a warm computer's agent waits on its claim and times POST → the first GET showing <c>idle</c>.
    /// </summary>
    public static async Task<Figure> CreateToIdleAsync(int count, CancellationToken cancellationToken)
    {
        var fixture = new WarmPoolAppFixture();
        await fixture.InitializeAsync().WaitAsync(cancellationToken);
        try
        {
            var (name, client) = await fixture.CreateOperatorAsync("warm-bench");
            client.Dispose();
            var bearer = await fixture.LoginAsync(name, "operator-pass-1");
            using var probe = fixture.CreateApiClient();
            using var http = Load.CreateClient(probe.BaseAddress!, bearer);
            var api = new BenchApi(http);
            var elapsed = new List<double>();
            var claimed = 0;
            for (var i = 0; i < count; i++)
            {
                var waiting = await fixture.WaitForPoolAsync(1);
                var started = Stopwatch.GetTimestamp();
                var created = await api.CreateAsync(BenchContext.KeepTimeoutSeconds, cancellationToken);
                await api.WaitForStateAsync(created.Id, "idle", BenchContext.FastPoll, BenchContext.StateTimeout, cancellationToken);
                elapsed.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
                claimed += waiting.Contains(created.Id) ? 1 : 0;
            }
            foreach (var id in api.Created.Keys)
            {
                await api.DeleteAsync(id, cancellationToken);
            }
            var (p50, p95) = (Stats.P50(elapsed), Stats.P95(elapsed));
            return new Figure(Name, Target, Stats.Seconds(p50), Stats.Seconds(p95), count, p50 <= 0.15,
                $"one at a time, each once a warm computer waits; {claimed} of {count} took one; Computers:WarmPool={WarmPoolAppFixture.PoolSize}")
                { P50Seconds = p50 };
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }
}
