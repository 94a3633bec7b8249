using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Aspire.Hosting.Testing;
using Npgsql;
using static System.FormattableString;

namespace Raworc.Benchmarks;

/// <summary>
/// What a load window cost per request, in measures that other work on a shared machine barely moves: the CPU time (user +
/// system) of the API process (<c>/proc/&lt;pid&gt;/stat</c>, 10 ms ticks), of the Postgres container (its cgroup's
/// <c>cpuacct.usage</c>, or <c>cpu.stat</c> under cgroup v2) and of this process (the load generator, with the OTLP receiver and
/// the stand-in model it hosts); and the API's Postgres round trips
/// (TCP data segments the process sent on its connections to Postgres, the kernel's <c>tcp_info</c> as <c>ss -ti</c> shows
/// it: Npgsql writes each command — Parse/Bind/Execute/Sync, with any pooled-connection reset in front of it — in one
/// flush, and a loopback segment holds up to 64 KiB, so one segment is one round trip).
/// </summary>
internal sealed partial class ApiCost(int pid, int postgresPort, string? postgresCpuFile)
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>
    /// The API's process id (the orchestrator's <c>executable.pid</c>), Postgres's port and its container's CPU counter; null
    /// when the process id or the port is unknown.
    /// </summary>
    public static async Task<ApiCost?> FindAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var resource = await context.Fixture.App.ResourceNotifications.WaitForResourceAsync(ResourceNames.Api, _ => true, cancellationToken);
        var pid = resource.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value;
        var connection = await context.Fixture.App.GetConnectionStringAsync(ResourceNames.Database, cancellationToken);
        var postgres = await context.Fixture.App.ResourceNotifications.WaitForResourceAsync(ResourceNames.Postgres, _ => true, cancellationToken);
        var container = Convert.ToString(postgres.Snapshot.Properties.FirstOrDefault(p => p.Name == "container.id")?.Value, CultureInfo.InvariantCulture);
        string? cpuFile = null;
        if (container is { Length: > 0 })
        {
            var id = (await context.Fixture.Docker.Containers.InspectContainerAsync(container, cancellationToken)).ID;
            cpuFile = new[]
            {
                $"/sys/fs/cgroup/cpuacct/docker/{id}/cpuacct.usage",
                $"/sys/fs/cgroup/system.slice/docker-{id}.scope/cpu.stat",
                $"/sys/fs/cgroup/docker/{id}/cpu.stat",
            }.FirstOrDefault(File.Exists);
        }
        return pid is null || connection is null || !int.TryParse(Convert.ToString(pid, CultureInfo.InvariantCulture), out var launched)
            ? null
            : new ApiCost(ApiProcess(launched), new NpgsqlConnectionStringBuilder(connection).Port, cpuFile);
    }

    // The orchestrator's pid may be a launcher (`dotnet run`): the API is the process of that tree named after its assembly.
    private static int ApiProcess(int launched)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (int.TryParse(Path.GetFileName(dir), out var id))
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    parents[id] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                }
            }
            catch (IOException)
            {
                // The process ended while it was being read.
            }
        }
        bool Below(int id) => id == launched || (parents.TryGetValue(id, out var parent) && parent > 1 && Below(parent));
        return parents.Keys.Where(Below).FirstOrDefault(id => ReadComm(id.ToString(CultureInfo.InvariantCulture)).StartsWith("Raworc.ApiServi", StringComparison.Ordinal), launched);
    }

    // The command name of a process ("1234") or thread ("1234/task/1240").
    private static string ReadComm(string process)
    {
        try
        {
            return File.ReadAllText($"/proc/{process}/comm").Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>The counters now.</summary>
    public Sample Read() => new(ProcessSeconds(pid.ToString(CultureInfo.InvariantCulture)), ContainerSeconds(), ProcessSeconds("self"),
        Segments(), CompilerSeconds(), Stopwatch.GetTimestamp());

    // The runtime's thread that compiles hot methods again, optimized (tier 1), in the background: ".NET Tiered Compilation
    // Worker", cut to the kernel's 15 characters. It ends when it has nothing to do and a new one starts when needed.
    private const string CompilerThread = ".NET Tiered Com";

    private readonly Dictionary<int, double> _compilerThreads = [];
    private double _compilerSeconds;

    /// <summary>
    /// CPU seconds the API's tiered-compilation threads have used since this object's first call, summed over each thread's
    /// growth between calls (a thread that ended since the last call loses its last part).
    /// </summary>
    public double CompilerSeconds()
    {
        lock (_compilerThreads)
        {
            try
            {
                foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
                {
                    if (!int.TryParse(Path.GetFileName(task), out var tid) || ReadComm($"{pid}/task/{tid}") != CompilerThread)
                    {
                        continue;
                    }
                    var seconds = ProcessSeconds($"{pid}/task/{tid}");
                    _compilerSeconds += seconds - _compilerThreads.GetValueOrDefault(tid, seconds);
                    _compilerThreads[tid] = seconds;
                }
            }
            catch (IOException)
            {
                // The thread (or the process) ended while it was being read.
            }
            return _compilerSeconds;
        }
    }

    /// <summary>
    /// Waits (at least <paramref name="least"/>, at most <paramref name="most"/>) until the API's tiered compiler has used
    /// under 1 % of a core over the last 3 s, polling every 0.5 s, while a load runs: the API then runs the optimized code
    /// of its request path, as a long-running server does. Returns the note's words for the wait.
    /// </summary>
    public async Task<string> SteadyAsync(TimeSpan least, TimeSpan most, CancellationToken cancellationToken)
    {
        var begin = Stopwatch.GetTimestamp();
        var start = CompilerSeconds();
        var marks = new Queue<(double At, double Compiler)>();
        marks.Enqueue((0, start));
        while (true)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            var at = Stopwatch.GetElapsedTime(begin).TotalSeconds;
            var used = CompilerSeconds();
            marks.Enqueue((at, used));
            // Keep the newest mark at least 3 s old as the oldest (polls drift past 0.5 s, so a fixed count would fall short).
            while (marks.Count > 1 && marks.ElementAt(1).At <= at - 3)
            {
                marks.Dequeue();
            }
            var (since, then) = marks.Peek();
            var quiet = at - since >= 3 && (used - then) / (at - since) < 0.01;
            if ((quiet && at >= least.TotalSeconds) || at >= most.TotalSeconds)
            {
                return Invariant($"{at:0} s warm-up (") + (quiet ? "until the API's tiered compiler had used under 1 % of a core for 3 s" : "the longest; the API's tiered compiler was still busy")
                    + Invariant($"; it used {used - start:0.0} s of CPU in the warm-up)");
            }
        }
    }

    /// <summary>
    /// "per request: API 412 µs CPU (1.23 cores), Postgres 150 µs, bench process 90 µs; 1.00 Postgres round trips; 2 idle
    /// cores ÷ (API + Postgres) = 3,559 req/s" for <paramref name="requests"/> requests answered between
    /// <paramref name="before"/> and <paramref name="after"/>.
    /// </summary>
    public static string Describe(Sample before, Sample after, int requests)
    {
        if (requests == 0)
        {
            return "API process: no request answered";
        }
        var seconds = Stopwatch.GetElapsedTime(before.Taken, after.Taken).TotalSeconds;
        var api = (after.Api - before.Api) / requests;
        var postgres = (after.Postgres - before.Postgres) / requests;
        var client = (after.Client - before.Client) / requests;
        // A connection opened in the window counts from 0; one closed in it is lost (the pool keeps them for minutes).
        var trips = after.Segments.Sum(s => s.Value - before.Segments.GetValueOrDefault(s.Key));
        var postgresPart = double.IsNaN(postgres) ? "Postgres CPU not readable" : Invariant($"Postgres {postgres * 1e6:0} µs");
        // The server's side only: the load generator would run elsewhere, and this process also hosts the AppHost's client.
        var server = api + postgres;
        var projection = double.IsNaN(server) ? ""
            : Invariant($"; {Environment.ProcessorCount} idle cores ÷ (API + Postgres) = {Environment.ProcessorCount / server:#,0} req/s");
        return Invariant($"per request: API {api * 1e6:0} µs CPU ({(after.Api - before.Api) / seconds:0.00} cores), {postgresPart}, ") +
            Invariant($"bench process {client * 1e6:0} µs; {(double)trips / requests:0.00} Postgres round trips") + projection +
            Invariant($"; the API's tiered compiler {(after.Compiler - before.Compiler) / seconds * 100:0.0} % of a core in the window");
    }

    // User + system seconds of one process ("self" for this one).
    private static double ProcessSeconds(string process)
    {
        var stat = File.ReadAllText($"/proc/{process}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    // CPU seconds of every process in the Postgres container, or NaN when its cgroup is unknown.
    private double ContainerSeconds()
    {
        if (postgresCpuFile is null)
        {
            return double.NaN;
        }
        var text = File.ReadAllText(postgresCpuFile);
        return postgresCpuFile.EndsWith("cpuacct.usage", StringComparison.Ordinal)
            ? long.Parse(text.Trim(), CultureInfo.InvariantCulture) / 1e9
            : long.Parse(text.Split('\n').First(l => l.StartsWith("usage_usec ", StringComparison.Ordinal))[11..], CultureInfo.InvariantCulture) / 1e6;
    }

    // Data segments sent, per local address, on the process's established connections to Postgres's port.
    private Dictionary<string, long> Segments()
    {
        using var ss = Process.Start(new ProcessStartInfo("ss", ["-tinpH", "state", "established", $"( dport = :{postgresPort} )"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("ss did not start");
        var lines = ss.StandardOutput.ReadToEnd().Split('\n');
        ss.WaitForExit();
        var result = new Dictionary<string, long>();
        // ss -i prints each socket's line, then its tcp_info on the next (indented) line.
        for (var i = 0; i + 1 < lines.Length; i++)
        {
            if (!lines[i].Contains($"pid={pid},", StringComparison.Ordinal))
            {
                continue;
            }
            var local = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];
            if (DataSegmentsOut().Match(lines[i + 1]) is { Success: true } match)
            {
                result[local] = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            }
        }
        return result;
    }

    [GeneratedRegex(@"\bdata_segs_out:(\d+)")]
    private static partial Regex DataSegmentsOut();

    /// <summary>The counters at one moment.</summary>
    /// <param name="Api">The API process's user + system time, seconds.</param>
    /// <param name="Postgres">The Postgres container's CPU time, seconds (NaN when unknown).</param>
    /// <param name="Client">This process's user + system time, seconds.</param>
    /// <param name="Segments">Data segments sent per Postgres connection (by local address).</param>
    /// <param name="Compiler">The API's tiered-compilation CPU so far, seconds (<see cref="CompilerSeconds"/>).</param>
    /// <param name="Taken">When (a <see cref="Stopwatch"/> timestamp).</param>
    internal sealed record Sample(double Api, double Postgres, double Client, IReadOnlyDictionary<string, long> Segments, double Compiler, long Taken);
}
