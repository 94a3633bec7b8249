using System.Diagnostics;
using Docker.DotNet.Models;
using Raworc.Tests.Computers;

namespace Raworc.Tests.Infrastructure;

/// <summary>
/// The whole system with computers on the two-node test Swarm of <c>eng/swarm-cluster.sh</c> (<c>Computers:Provider=swarm</c>,
/// the manager's socket as <c>Computers:DockerEndpoint</c>); otherwise as <see cref="ComputersAppFixture"/>. The cluster is
/// brought up (and the test image copied to both nodes) before the AppHost starts; it is left running for the next run
/// (<c>eng/swarm-cluster.sh down</c> removes it; CI does).
/// </summary>
public class SwarmAppFixture : ComputersAppFixture
{
    /// <summary>
    /// The cluster's name, the prefix of its namespaces, sockets and data root: <c>RAWORC_SWARM_NAME</c>, as for the script,
    /// or <c>raworc-swarm</c> (the benchmark brings up a cluster of its own under another name).
    /// </summary>
    public static string ClusterName => Environment.GetEnvironmentVariable("RAWORC_SWARM_NAME") is { Length: > 0 } name ? name : "raworc-swarm";

    /// <summary>The manager's engine (node 1 of the test cluster).</summary>
    public static string ManagerEndpoint => $"unix:///run/{ClusterName}-1.sock";

    /// <summary>Always: this fixture is the Swarm one, whatever <see cref="TestProvider.Name"/> says.</summary>
    public override bool OnSwarm => true;

    protected override IReadOnlyDictionary<string, string> ApiEnvironment => new Dictionary<string, string>(base.ApiEnvironment)
    {
        ["Computers__WarmPool"] = WarmPool.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>How many started computers the API keeps waiting (<c>Computers:WarmPool</c>); none here.</summary>
    protected virtual int WarmPool => 0;

    /// <summary>Starts nothing where the cluster cannot run: every test of the collection is skipped then (<see cref="SwarmFactAttribute"/>).</summary>
    public override Task InitializeAsync() => SwarmCluster.CannotRunReason is null ? base.InitializeAsync() : Task.CompletedTask;

    /// <summary>
    /// Where the session's computer runs now, as the manager records it: its running task's node and container. The manager
    /// may record the task as running a moment after its agent reported ready (the task state comes from the node's next
    /// status report), so this asks again every 200 ms for up to 30 s.
    /// </summary>
    /// <exception cref="InvalidOperationException">The session's service has no running task after 30 s.</exception>
    public async Task<(string NodeId, string ContainerId)> ComputerAsync(Guid sessionId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var service = await ServiceAsync(sessionId) ?? throw new InvalidOperationException($"Session {sessionId} has no service.");
            var tasks = await Manager.Tasks.ListAsync(new TasksListParameters
            {
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["service"] = new Dictionary<string, bool> { [service.ID] = true } },
            });
            var running = tasks.FirstOrDefault(task => task.Status?.State == TaskState.Running && task.Status.ContainerStatus?.ContainerID is { Length: > 0 });
            if (running is not null)
            {
                return (running.NodeID, running.Status.ContainerStatus.ContainerID);
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"The service of session {sessionId} has no running task after 30 s.");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>Reads a session's volume on the node that holds it.</summary>
    public async Task<DockerProbe> NodeProbeAsync(string nodeId) => new(await NodeEngineAsync(nodeId), Image);

    public override async Task DisposeAsync()
    {
        if (SwarmCluster.CannotRunReason is not null)
        {
            return;
        }
        await base.DisposeAsync();
    }
}

/// <summary>
/// <see cref="SwarmAppFixture"/> with a warm pool of <see cref="PoolSize"/> started computers on the cluster, in a system of
/// its own (its own deployment, so the two never touch each other's services).
/// </summary>
public sealed class SwarmWarmPoolAppFixture : SwarmAppFixture
{
    /// <summary>How many started computers the API keeps waiting.</summary>
    public const int PoolSize = 2;

    protected override int WarmPool => PoolSize;

    /// <summary>Waits until <paramref name="count"/> pooled computers wait for a claim; returns their reserved ids.</summary>
    public async Task<List<Guid>> WaitForPoolAsync(int count = PoolSize)
    {
        var ready = new List<Guid>();
        await Waits.UntilAsync(async () => (ready = await QueryAsync<Guid>(
                "SELECT id FROM warm_computers WHERE container_id IS NOT NULL AND ready_at IS NOT NULL ORDER BY id")).Count >= count,
            $"{count} warm computers on the cluster wait for a claim", TimeSpan.FromSeconds(120));
        return ready;
    }
}

/// <summary>Runs <c>eng/swarm-cluster.sh</c> from the repository, and says whether this machine can run it at all.</summary>
public static class SwarmCluster
{
    /// <summary>Why the cluster cannot run here (the tests are then skipped with this reason), or null when it can.</summary>
    public static string? CannotRunReason { get; } = Check();

    /// <summary>Runs the script with these arguments; its exit code and output (stdout and stderr).</summary>
    public static async Task<(int Code, string Output)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot(), "eng", "swarm-cluster.sh"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        // `up` may copy images to both nodes (docker save | docker load): the desktop image alone took over 5 minutes at a
        // load average of ~45, and the first system's start-up failed on that limit.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(arguments is ["up", ..] ? 20 : 5));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string? Check()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            return "the Swarm test cluster (eng/swarm-cluster.sh) needs root on Linux (network namespaces and extra dockerd instances)";
        }
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':');
        foreach (var tool in new[] { "dockerd", "nsenter", "ip" })
        {
            if (!path.Any(folder => File.Exists(Path.Combine(folder, tool))) && !File.Exists(Path.Combine("/usr/sbin", tool)))
            {
                return $"the Swarm test cluster (eng/swarm-cluster.sh) needs {tool}, which this machine lacks";
            }
        }
        return null;
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Raworc.sln")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException("Raworc.sln not found above the test assembly.");
    }
}

/// <summary>A test on the Swarm test cluster: skipped, with the reason, where <c>eng/swarm-cluster.sh</c> cannot run.</summary>
public sealed class SwarmFactAttribute : FactAttribute
{
    public SwarmFactAttribute()
    {
        if (SwarmCluster.CannotRunReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>Tests on the Swarm test cluster share one started system.</summary>
[CollectionDefinition(Name)]
public sealed class SwarmAppCollection : ICollectionFixture<SwarmAppFixture>
{
    public const string Name = "Raworc with computers on a Swarm";
}

/// <summary>The warm pool's tests on the Swarm test cluster.</summary>
[CollectionDefinition(Name)]
public sealed class SwarmWarmPoolAppCollection : ICollectionFixture<SwarmWarmPoolAppFixture>
{
    public const string Name = "Raworc with a warm pool on a Swarm";
}
