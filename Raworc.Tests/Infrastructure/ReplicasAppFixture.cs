using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting.Testing;

namespace Raworc.Tests.Infrastructure;

/// <summary>
/// The whole system with computers and the API as two replicas (<c>Raworc:ApiReplicas=2</c>, Aspire's <c>WithReplicas</c>):
/// two processes on one database, one Redis and one Docker engine. <see cref="RaworcAppFixture.CreateApiClient()"/> goes
/// through Aspire's proxy, which spreads requests over both; <see cref="CreateReplicaClient"/> talks to one replica
/// directly (its own port, read from the process's listening sockets). The replicas reach the engine through an
/// <see cref="EngineProxy"/> (<see cref="ReplicaEngine"/>), so a test can hold one replica inside an engine call.
/// </summary>
public class ReplicasAppFixture : ComputersAppFixture
{
    /// <summary>How many replicas run.</summary>
    public const int ReplicaCount = 2;

    /// <summary>One running replica: its process id and its own HTTP address.</summary>
    public sealed record Replica(int ProcessId, Uri Address);

    // Marks this fixture's API processes, so they are told from other runs' on the same machine.
    private readonly string _run = Guid.NewGuid().ToString("N");
    private EngineProxy? _engine;

    /// <summary>The engine address the replicas were given: the local engine behind a proxy that can hold a request back.</summary>
    public EngineProxy ReplicaEngine => _engine ?? throw new InvalidOperationException("Not started.");

    protected override async Task BeforeStartAsync()
    {
        await base.BeforeStartAsync();
        // The engine the API is given: the main one, or on Swarm the manager's.
        _engine = EngineProxy.Start(OnSwarm ? new Uri(SwarmAppFixture.ManagerEndpoint).AbsolutePath : "/var/run/docker.sock", record: false);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }

    protected override IEnumerable<string> ExtraArguments => [.. base.ExtraArguments, $"--Raworc:ApiReplicas={ReplicaCount}"];

    protected override bool StopsApiFirst => false;

    /// <summary>
    /// <c>Computers:WorkLeaseSeconds</c> here, seconds: short, so the item of a killed replica is taken by the other within
    /// a test's wait; long enough that a live worker on a loaded machine keeps renewing it (every third of it).
    /// </summary>
    public const int WorkLeaseSeconds = 15;

    /// <summary>
    /// <c>RateLimits:LoginFailuresPerName</c> here (the default): failed logins of one name allowed in a window, counted
    /// over both replicas. The per-address limit stays off (every test logs in from 127.0.0.1).
    /// </summary>
    public const int LoginFailuresPerName = 10;

    /// <summary><c>RateLimits:LoginWindowSeconds</c> here: long, so that no window ends while a test counts.</summary>
    public const int LoginWindowSeconds = 600;

    protected override IReadOnlyDictionary<string, string> ApiEnvironment => new Dictionary<string, string>(base.ApiEnvironment)
    {
        ["RAWORC_TEST_RUN"] = _run,
        ["Computers__DockerEndpoint"] = ReplicaEngine.Endpoint,
        ["Computers__WorkLeaseSeconds"] = WorkLeaseSeconds.ToString(CultureInfo.InvariantCulture),
        // The tests' webhook receiver listens on 127.0.0.1; dispatchers look for due deliveries often.
        ["Webhooks__AllowPrivateTargets"] = "true",
        ["Webhooks__PollMilliseconds"] = "100",
        // Long, so that only the other replica's invalidation (Redis), never the cache's lifetime, can make a revoke count there.
        ["Jwt__PrincipalCacheSeconds"] = "300",
        ["RateLimits__LoginFailuresPerName"] = LoginFailuresPerName.ToString(CultureInfo.InvariantCulture),
        ["RateLimits__LoginWindowSeconds"] = LoginWindowSeconds.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// The replicas as they run now, ordered by process id; waits until <see cref="ReplicaCount"/> processes of this run
    /// listen and answer <c>/health</c>. Found in <c>/proc</c>: Aspire's health check goes through its proxy, which says
    /// nothing of each replica.
    /// </summary>
    public async Task<IReadOnlyList<Replica>> ReplicasAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            var replicas = new List<Replica>();
            foreach (var pid in ProcessesOfThisRun())
            {
                if (ListeningAddress(pid, ComputerPort) is { } address
                    && await probe.GetAsync(new Uri(address, "/health"), cts.Token).ContinueWith(t => t.IsCompletedSuccessfully && t.Result.IsSuccessStatusCode, TaskScheduler.Default))
                {
                    replicas.Add(new Replica(pid, address));
                }
            }
            if (replicas.Count == ReplicaCount)
            {
                return replicas;
            }
            await Task.Delay(200, cts.Token);
        }
    }

    private IEnumerable<int> ProcessesOfThisRun()
    {
        var marker = $"RAWORC_TEST_RUN={_run}";
        foreach (var dir in Directory.EnumerateDirectories("/proc").OrderBy(d => d, StringComparer.Ordinal))
        {
            if (!int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            string environ;
            try
            {
                environ = File.ReadAllText($"{dir}/environ");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            if (environ.Split('\0').Contains(marker))
            {
                yield return pid;
            }
        }
    }

    /// <summary>
    /// The TCP address a process itself listens on (from <c>/proc</c>), on loopback, other than <paramref name="computerPort"/>
    /// (on Swarm every replica listens on the computer port too, where only the Host's routes answer); null when none.
    /// </summary>
    private static Uri? ListeningAddress(int pid, int computerPort)
    {
        var sockets = OwnSocketInodes(pid);
        foreach (var socket in TcpSockets())
        {
            if (socket.State == TcpListen && socket.LocalPort != computerPort && sockets.Contains(socket.Inode))
            {
                return new Uri($"http://127.0.0.1:{socket.LocalPort}");
            }
        }
        return null;
    }

    // The states of /proc/net/tcp's "st" column (the kernel's TCP_ESTABLISHED and TCP_LISTEN, in hex).
    private const string TcpEstablished = "01";
    private const string TcpListen = "0A";

    /// <summary>One row of <c>/proc/net/tcp</c> or <c>tcp6</c>: the two ports, the state (hex) and the socket's inode.</summary>
    private sealed record TcpSocket(int LocalPort, int RemotePort, string State, string Inode);

    /// <summary>The TCP sockets of <c>/proc/net/tcp</c> and <c>tcp6</c>, as in <paramref name="tables"/> (this machine's when null).</summary>
    private static IEnumerable<TcpSocket> TcpSockets(string? tables = null) =>
        (tables ?? File.ReadAllText("/proc/net/tcp") + File.ReadAllText("/proc/net/tcp6")).Split('\n')
        .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        // local_address and rem_address are HEXIP:HEXPORT; field 9 is the inode; the tables' header lines start with "sl".
        .Where(fields => fields.Length >= 10 && fields[0] != "sl")
        .Select(fields => new TcpSocket(PortOf(fields[1]), PortOf(fields[2]), fields[3], fields[9]));

    private static int PortOf(string address) =>
        int.Parse(address[(address.LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>
    /// The replica a computer's Host talks to: on Docker the one the computers' socket leads to
    /// (<see cref="ComputerSocketReplicaAsync"/>, every computer's); on Swarm the one holding the Host's connection to the
    /// shared computer port (the first, by process id, if it holds connections to both; see <see cref="HostPortReplicasAsync"/>).
    /// Null when none.
    /// </summary>
    public async Task<Replica?> HostReplicaAsync(IReadOnlyList<Replica> replicas, Guid sessionId) => OnSwarm
        ? (await HostPortReplicasAsync(replicas, sessionId)).FirstOrDefault()
        : await ComputerSocketReplicaAsync(replicas);

    /// <summary>
    /// On Swarm, the replicas (ordered by process id) that hold a connection from the session's Host to the computer port, which
    /// every replica listens on (SO_REUSEPORT: the kernel gives each new connection to one of them). Found by ports: the
    /// computer's own established connections to the computer port (its <c>/proc/net/tcp</c>, read inside it) give their
    /// source ports, and the replica that owns this machine's established socket on the computer port whose peer has one
    /// of those ports holds it (the node's NAT keeps a connection's source port when it is free, as here).
    /// </summary>
    public async Task<IReadOnlyList<Replica>> HostPortReplicasAsync(IReadOnlyList<Replica> replicas, Guid sessionId)
    {
        var (code, tables, error) = await RunInsideAsync(sessionId, "cat /proc/net/tcp /proc/net/tcp6");
        Assert.True(code == 0, error);
        var hostPorts = TcpSockets(tables).Where(s => s.State == TcpEstablished && s.RemotePort == ComputerPort)
            .Select(s => s.LocalPort).ToHashSet();
        var accepted = TcpSockets().Where(s => s.State == TcpEstablished && s.LocalPort == ComputerPort && hostPorts.Contains(s.RemotePort))
            .Select(s => s.Inode).ToHashSet(StringComparer.Ordinal);
        return replicas.Where(replica => OwnSocketInodes(replica.ProcessId).Overlaps(accepted)).ToList();
    }

    /// <summary>The inodes of a process's open sockets.</summary>
    private static HashSet<string> OwnSocketInodes(int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
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
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The process ended.
        }
        return inodes;
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
                if (OwnSocketInodes(replica.ProcessId).Overlaps(accepted))
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

    /// <summary>A client that talks to replica <paramref name="replica"/> only with the Host token of <paramref name="sessionId"/>'s start <paramref name="start"/>.</summary>
    public HttpClient CreateReplicaHostClient(Replica replica, Guid sessionId, int start = 0) => CreateReplicaClient(replica,
        Auth.TokenForgery.Create(JwtSigningKey, subject: $"host-{sessionId}", type: "Host",
            extra: new Dictionary<string, object> { ["session_id"] = sessionId.ToString(), ["start"] = start }));

    /// <summary>The replica that a <c>work_runs.worker</c> value (<c>host:pid</c>) names.</summary>
    public static Replica ReplicaOfWorker(IEnumerable<Replica> replicas, string worker) =>
        replicas.Single(r => worker.EndsWith($":{r.ProcessId}", StringComparison.Ordinal));

    /// <summary>An open connection to the API's database (for a test that holds a row lock).</summary>
    public async Task<Npgsql.NpgsqlConnection> OpenDatabaseAsync()
    {
        var connection = new Npgsql.NpgsqlConnection(await App.GetConnectionStringAsync(ResourceNames.Database));
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>
    /// Stops the replica's process (SIGSTOP) until the result is disposed (SIGCONT): it holds its connections, locks and
    /// leases but does nothing, so whatever happens meanwhile is done by the other replica.
    /// </summary>
    public static IDisposable Freeze(Replica replica)
    {
        Signal(replica, "STOP");
        return new Thaw(replica);
    }

    private static void Signal(Replica replica, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", replica.ProcessId.ToString(CultureInfo.InvariantCulture)]))!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private sealed class Thaw(Replica replica) : IDisposable
    {
        public void Dispose() => Signal(replica, "CONT");
    }

    /// <summary>Kills the replica's process outright (no shutdown: what a crash or a lost machine does).</summary>
    public static void Kill(Replica replica)
    {
        using var process = Process.GetProcessById(replica.ProcessId);
        process.Kill();
        process.WaitForExit(TimeSpan.FromSeconds(30));
    }
}

/// <summary>
/// <see cref="ReplicasAppFixture"/> with a warm pool of <see cref="PoolSize"/> computers (<c>Computers:WarmPool</c>, the same
/// setting on both replicas), in a system of its own.
/// </summary>
public sealed class ReplicasWarmPoolAppFixture : ReplicasAppFixture
{
    /// <summary>The pool's size, per deployment: what the replicas together keep waiting.</summary>
    public const int PoolSize = 3;

    protected override IReadOnlyDictionary<string, string> ApiEnvironment => new Dictionary<string, string>(base.ApiEnvironment)
    {
        ["Computers__WarmPool"] = PoolSize.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>The warm pool under two replicas has a system of its own.</summary>
[CollectionDefinition(Name)]
public sealed class ReplicasWarmPoolAppCollection : ICollectionFixture<ReplicasWarmPoolAppFixture>
{
    public const string Name = "Raworc with two API replicas and a warm pool";
}

/// <summary>Tests of the API as two replicas share one system.</summary>
[CollectionDefinition(Name)]
public sealed class ReplicasAppCollection : ICollectionFixture<ReplicasAppFixture>
{
    public const string Name = "Raworc with two API replicas";
}
