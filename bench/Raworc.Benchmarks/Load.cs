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
/// <param name="WarmUp">How long the load ran before the window opened and why it stopped there, for the note.</param>
/// <param name="WarmUpSeconds">The warm-up's length, seconds.</param>
internal sealed record LoadResult(int Ok, int Failed, double Seconds, IReadOnlyCollection<double> Latencies, string? FirstError, string Cost,
    string WarmUp, double WarmUpSeconds)
{
    public double Rate => Ok / Seconds;
}

/// <summary>Closed-loop load: each worker sends its next request as soon as the previous one is answered.</summary>
internal static class Load
{
    /// <summary>
    /// The throughput rows' shortest warm-up before their window opens: 3 s. The window opens once the API's tiered
    /// compiler has gone quiet (<see cref="ApiCost.SteadyAsync"/>), after 60 s at most. With a fixed 3 s, the row that ran
    /// first on a request path measured the API's warm-up: a CPU profile of the first `POST` window put 62 % of the API's
    /// CPU in its tiered-compilation thread, and a `GET` row run after 40 s of load answered twice as many requests at a
    /// third of the API's CPU per request (README "Benchmarks").
    /// </summary>
    public static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);

    /// <summary>The longest warm-up of a throughput row: past it the window opens with the compiler still busy, and the note says so.</summary>
    public static readonly TimeSpan LongestWarmUp = TimeSpan.FromSeconds(60);

    /// <summary>A warm-up of a fixed length, for rows that do not measure the API's steady state.</summary>
    public static Func<CancellationToken, Task<string>> Fixed(TimeSpan length) => async cancellationToken =>
    {
        await Task.Delay(length, cancellationToken);
        return FormattableString.Invariant($"{length.TotalSeconds:0} s warm-up");
    };

    /// <summary>
    /// The throughput rows' warm-up: until the API's tiered compiler is quiet (at least <see cref="WarmUp"/>, at most
    /// <see cref="LongestWarmUp"/>); a fixed <see cref="WarmUp"/> when the API's process is unknown.
    /// </summary>
    public static Func<CancellationToken, Task<string>> Steady(ApiCost? cost) =>
        cost is null ? Fixed(WarmUp) : cancellationToken => cost.SteadyAsync(WarmUp, LongestWarmUp, cancellationToken);

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
    /// Runs <paramref name="workers"/> loops through <paramref name="warmUp"/> (which returns the note's words for it) and
    /// then a window of <paramref name="duration"/>; only requests that start after the window opens and end inside it
    /// count. With <paramref name="cost"/>, the API's counters are read when the window opens and when it closes.
    /// </summary>
    public static async Task<LoadResult> RunAsync(HttpClient client, int workers, Func<CancellationToken, Task<string>> warmUp, TimeSpan duration,
        Func<int, HttpRequestMessage> request, HttpStatusCode expected, CancellationToken cancellationToken, ApiCost? cost = null)
    {
        var begin = Stopwatch.GetTimestamp();
        long opened = 0; // the window's opening, a Stopwatch timestamp; 0 while warming up
        var length = (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var window = Task.Run(async () =>
        {
            var warmed = await warmUp(cancellationToken);
            var first = cost?.Read();
            var at = Stopwatch.GetTimestamp();
            Volatile.Write(ref opened, at);
            await Task.Delay(duration, cancellationToken);
            return (Warmed: warmed, WarmedSeconds: Stopwatch.GetElapsedTime(begin, at).TotalSeconds, Opened: first, Closed: cost?.Read());
        }, cancellationToken);
        var results = await Task.WhenAll(Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            var latencies = new List<double>();
            int ok = 0, failed = 0, sequence = 0;
            string? error = null;
            while (!window.IsCompleted)
            {
                var sent = Stopwatch.GetTimestamp();
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
                var done = Stopwatch.GetTimestamp();
                var start = Volatile.Read(ref opened);
                if (start == 0 || sent < start || done > start + length)
                {
                    continue;
                }
                if (status == expected)
                {
                    ok++;
                    latencies.Add(Stopwatch.GetElapsedTime(sent, done).TotalSeconds);
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
        var taken = await window;
        return new LoadResult(ok, results.Sum(r => r.failed), duration.TotalSeconds,
            [.. results.SelectMany(r => r.latencies)], results.Select(r => r.error).FirstOrDefault(e => e is not null),
            taken is { Opened: { } before, Closed: { } after } ? ApiCost.Describe(before, after, ok)
                : "API process: not measured (its process id or Postgres's port is unknown)", taken.Warmed, taken.WarmedSeconds);
    }
}
