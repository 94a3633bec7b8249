using System.Diagnostics;
using System.Net;

namespace Raworc.Benchmarks;

/// <summary>What a closed-loop load run measured inside its window.</summary>
/// <param name="Ok">Requests answered with the expected status, started and finished inside the window.</param>
/// <param name="Failed">Requests with another status or a transport error.</param>
/// <param name="Seconds">Length of the measured window.</param>
/// <param name="Latencies">Latency of each counted request, seconds.</param>
/// <param name="FirstError">The first failure, for the note.</param>
/// <param name="Cost">The API process's CPU and Postgres round trips per request in the window (<see cref="ApiCost.Describe"/>), or why not measured.</param>
internal sealed record LoadResult(int Ok, int Failed, double Seconds, IReadOnlyCollection<double> Latencies, string? FirstError, string Cost)
{
    public double Rate => Ok / Seconds;
}

/// <summary>Closed-loop load: each worker sends its next request as soon as the previous one is answered.</summary>
internal static class Load
{
    /// <summary>
    /// The throughput rows' warm-up before their window opens: 3 s. With 1 s, the API was still compiling its request
    /// path in the background in the first row (a CPU profile put 17–32 % of the API's CPU in the JIT then), so the row
    /// that ran first measured the API's warm-up as well (README "Benchmarks").
    /// </summary>
    public static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);

    /// <summary>A client of its own connection pool, never through a proxy (traffic stays on loopback).</summary>
    public static HttpClient CreateClient(Uri baseAddress, string token) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        MaxConnectionsPerServer = 256,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    })
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromSeconds(60),
        DefaultRequestHeaders = { Authorization = new("Bearer", token) },
    };

    /// <summary>
    /// Runs <paramref name="workers"/> loops for <paramref name="warmUp"/> + <paramref name="duration"/>; only requests that
    /// start after the warm-up and end inside the window count. With <paramref name="cost"/>, the API's counters are read
    /// when the window opens and when it closes.
    /// </summary>
    public static async Task<LoadResult> RunAsync(HttpClient client, int workers, TimeSpan warmUp, TimeSpan duration,
        Func<int, HttpRequestMessage> request, HttpStatusCode expected, CancellationToken cancellationToken, ApiCost? cost = null)
    {
        var begin = Stopwatch.GetTimestamp();
        var stopAt = warmUp + duration;
        var window = cost is null ? null : Task.Run(async () =>
        {
            await Task.Delay(warmUp, cancellationToken);
            var opened = cost.Read();
            await Task.Delay(TimeSpan.FromTicks(Math.Max(0, (stopAt - Stopwatch.GetElapsedTime(begin)).Ticks)), cancellationToken);
            return (Opened: opened, Closed: cost.Read());
        }, cancellationToken);
        var results = await Task.WhenAll(Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            var latencies = new List<double>();
            int ok = 0, failed = 0, sequence = 0;
            string? error = null;
            while (Stopwatch.GetElapsedTime(begin) < stopAt)
            {
                var sent = Stopwatch.GetElapsedTime(begin);
                HttpStatusCode? status = null;
                try
                {
                    using var message = request(worker * 1_000_000 + sequence++);
                    using var response = await client.SendAsync(message, cancellationToken);
                    await response.Content.ReadAsByteArrayAsync(cancellationToken);
                    status = response.StatusCode;
                }
                catch (HttpRequestException ex)
                {
                    error ??= ex.Message;
                }
                var done = Stopwatch.GetElapsedTime(begin);
                if (sent < warmUp || done > stopAt)
                {
                    continue;
                }
                if (status == expected)
                {
                    ok++;
                    latencies.Add((done - sent).TotalSeconds);
                }
                else
                {
                    failed++;
                    error ??= $"status {(int?)status}";
                }
            }
            return (ok, failed, latencies, error);
        }, cancellationToken)));
        var ok = results.Sum(r => r.ok);
        var counters = window is null ? ((ApiCost.Sample, ApiCost.Sample)?)null : await window;
        return new LoadResult(ok, results.Sum(r => r.failed), duration.TotalSeconds,
            [.. results.SelectMany(r => r.latencies)], results.Select(r => r.error).FirstOrDefault(e => e is not null),
            counters is { } taken ? ApiCost.Describe(taken.Item1, taken.Item2, ok)
                : "API process: not measured (its process id or Postgres's port is unknown)");
    }
}
