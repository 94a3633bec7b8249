using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting.ApplicationModel;

namespace Raworc.Tests.Infrastructure;

/// <summary>
/// The whole system with computers and the API as two replicas (<c>Raworc:ApiReplicas=2</c>, Aspire's <c>WithReplicas</c>):
/// two processes on one database, one Redis and one Docker engine. <see cref="RaworcAppFixture.CreateApiClient()"/> goes
/// through Aspire's proxy, which spreads requests over both; <see cref="CreateReplicaClient"/> talks to one replica
/// directly (its own port, read from the process's listening sockets).
/// </summary>
public sealed class ReplicasAppFixture : ComputersAppFixture
{
    /// <summary>How many replicas run.</summary>
    public const int ReplicaCount = 2;

    /// <summary>One running replica: its Aspire instance name, process id and HTTP address.</summary>
    public sealed record Replica(string ResourceId, int ProcessId, Uri Address);

    protected override IEnumerable<string> ExtraArguments => [.. base.ExtraArguments, $"--Raworc:ApiReplicas={ReplicaCount}"];

    protected override IReadOnlyDictionary<string, string> ApiEnvironment => new Dictionary<string, string>(base.ApiEnvironment)
    {
        // Each work item's run is counted; quick retries keep a replica's death from showing as a long wait.
        ["Computers__WorkConcurrency"] = "2",
    };

    /// <summary>The replicas as they run now, in a stable order (by instance name); waits until <see cref="ReplicaCount"/> are up and healthy.</summary>
    public async Task<IReadOnlyList<Replica>> ReplicasAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        var found = new Dictionary<string, ResourceEvent>();
        await foreach (var change in App.ResourceNotifications.WatchAsync(cts.Token))
        {
            if (change.Resource.Name != ResourceNames.Api)
            {
                continue;
            }
            found[change.ResourceId] = change;
            var healthy = found.Values.Where(e => e.Snapshot.State?.Text == KnownResourceStates.Running
                && e.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy
                && ProcessIdOf(e.Snapshot) is not null).ToList();
            if (healthy.Count == ReplicaCount)
            {
                return healthy.OrderBy(e => e.ResourceId, StringComparer.Ordinal)
                    .Select(e => new Replica(e.ResourceId, ProcessIdOf(e.Snapshot)!.Value, AddressOf(ProcessIdOf(e.Snapshot)!.Value)))
                    .ToList();
            }
        }
        throw new InvalidOperationException("unreachable");
    }

    // Aspire's name for an executable's process id (its KnownProperties are internal).
    private const string PidProperty = "executable.pid";

    private static int? ProcessIdOf(CustomResourceSnapshot snapshot) =>
        snapshot.Properties.FirstOrDefault(p => p.Name == PidProperty)?.Value switch
        {
            int pid => pid,
            long pid => (int)pid,
            string text when int.TryParse(text, CultureInfo.InvariantCulture, out var pid) => pid,
            _ => null,
        };

    /// <summary>The replica's own HTTP address: the TCP port its process listens on (from <c>/proc</c>), on loopback.</summary>
    private static Uri AddressOf(int pid)
    {
        var sockets = SocketInodes(pid);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 9 is the inode.
                if (fields[3] == "0A" && sockets.Contains(fields[9]))
                {
                    var port = int.Parse(fields[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    return new Uri($"http://127.0.0.1:{port}");
                }
            }
        }
        throw new InvalidOperationException($"process {pid} listens on no TCP port");
    }

    /// <summary>
    /// The inodes of the open sockets of a process and its descendants (Aspire's process is <c>dotnet run</c>; the API is
    /// its child).
    /// </summary>
    private static HashSet<string> SocketInodes(int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in ProcessTree(pid).SelectMany(p => Directory.Exists($"/proc/{p}/fd") ? Directory.EnumerateFiles($"/proc/{p}/fd") : []))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(target[8..^1]);
                }
            }
            catch (IOException)
            {
                // Closed while listed.
            }
        }
        return inodes;
    }

    private static List<int> ProcessTree(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var pid))
            {
                try
                {
                    // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after the last ')'.
                    var stat = File.ReadAllText($"{dir}/stat");
                    parents[pid] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                }
                catch (IOException)
                {
                }
            }
        }
        var tree = new List<int> { root };
        for (var i = 0; i < tree.Count; i++)
        {
            tree.AddRange(parents.Where(p => p.Value == tree[i]).Select(p => p.Key));
        }
        return tree;
    }

    /// <summary>A client that talks to replica <paramref name="replica"/> only, with <paramref name="token"/> as its bearer token if given.</summary>
    public HttpClient CreateReplicaClient(Replica replica, string? token = null)
    {
        var client = new HttpClient { BaseAddress = replica.Address, Timeout = TimeSpan.FromSeconds(100) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        }
        return client;
    }

    /// <summary>
    /// The replica whose process answers on the computers' socket (<c>api.sock</c> in the deployment's socket folder): a
    /// connection is opened to it, and the process holding the accepted end (a new socket bound in that folder) is looked
    /// up in <c>/proc</c>. Null when no replica accepts.
    /// </summary>
    public async Task<Replica?> ComputerSocketReplicaAsync(IReadOnlyList<Replica> replicas)
    {
        var deployment = Assert.Single(await QueryAsync<string>("SELECT id FROM deployment"));
        var path = Path.Combine(Path.GetTempPath(), $"raworc-{deployment}", "api.sock");
        var folder = Path.GetDirectoryName(path)!;
        var before = UnixInodes(folder);
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream,
            System.Net.Sockets.ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        }
        catch (System.Net.Sockets.SocketException)
        {
            return null;
        }
        // The accepted end shows in /proc/net/unix under the listener's path; its owner holds its inode.
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            var accepted = UnixInodes(folder).Except(before).ToHashSet();
            foreach (var replica in replicas)
            {
                if (SocketInodes(replica.ProcessId).Overlaps(accepted))
                {
                    return replica;
                }
            }
            await Task.Delay(50);
        }
        return null;
    }

    /// <summary>Inodes of the Unix sockets bound in <paramref name="folder"/> (an accepted connection shows its listener's path).</summary>
    private static HashSet<string> UnixInodes(string folder) => File.ReadLines("/proc/net/unix").Skip(1)
        .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .Where(fields => fields.Length >= 8 && fields[7].StartsWith(folder + "/", StringComparison.Ordinal))
        .Select(fields => fields[6]).ToHashSet(StringComparer.Ordinal);

    /// <summary>Kills the replica's process outright (no shutdown: what a crash or a lost machine does).</summary>
    public static void Kill(Replica replica)
    {
        using var process = Process.GetProcessById(replica.ProcessId);
        process.Kill(entireProcessTree: true);
        process.WaitForExit(TimeSpan.FromSeconds(30));
    }

    /// <summary>Starts a killed replica again (Aspire's restart command on that instance) and waits until both run.</summary>
    public async Task<IReadOnlyList<Replica>> RestartAsync(Replica replica)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await App.ResourceCommands.ExecuteCommandAsync(replica.ResourceId, KnownResourceCommands.RestartCommand, cts.Token);
        return await ReplicasAsync();
    }
}

/// <summary>Tests of the API as two replicas share one system.</summary>
[CollectionDefinition(Name)]
public sealed class ReplicasAppCollection : ICollectionFixture<ReplicasAppFixture>
{
    public const string Name = "Raworc with two API replicas";
}
