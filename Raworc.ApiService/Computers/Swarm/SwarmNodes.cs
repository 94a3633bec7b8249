using System.Collections.Concurrent;
using Docker.DotNet;

namespace Raworc.ApiService.Computers.Swarm;

/// <summary>
/// The Swarm's nodes as the manager reports them, and one Docker client per node engine. A node names its engine's
/// address with the node label <c>raworc.engine</c> (<c>unix:///…</c> or <c>tcp://host:port</c>, set with
/// <c>docker node update --label-add raworc.engine=…</c>; <c>eng/swarm-cluster.sh</c> does it for the test cluster):
/// volumes, seeding, remix copies, file reads, screenshots and disk measurements are per-node operations that the
/// Swarm API does not offer.
/// </summary>
/// <param name="manager">The client of the manager (<see cref="ComputerOptions.DockerEndpoint"/>).</param>
public sealed class SwarmNodes(IDockerClient manager) : IDisposable
{
    /// <summary>The node label that holds the node engine's address.</summary>
    public const string EngineLabel = ComputerLabels.NodeEngine;

    private readonly ConcurrentDictionary<string, DockerClient> _clients = new(StringComparer.Ordinal);

    /// <summary>Every node of the Swarm, ready or not, whatever its availability.</summary>
    /// <param name="cancellationToken">Cancels the manager call.</param>
    public async Task<IReadOnlyList<SwarmNode>> ListAsync(CancellationToken cancellationToken)
    {
        var nodes = await manager.Swarm.ListNodesAsync(cancellationToken);
        return nodes.Select(node => new SwarmNode(
                node.ID,
                node.Status?.State == "ready",
                node.Spec?.Availability ?? "active",
                node.Spec?.Labels is { } labels && labels.TryGetValue(EngineLabel, out var endpoint) ? endpoint : null,
                node.Version?.Index ?? 0))
            .ToList();
    }

    /// <summary>The node with this id, or <see langword="null"/> when the Swarm has none (it was removed).</summary>
    /// <param name="nodeId">A node id.</param>
    /// <param name="cancellationToken">Cancels the manager call.</param>
    public async Task<SwarmNode?> FindAsync(string nodeId, CancellationToken cancellationToken) =>
        (await ListAsync(cancellationToken)).FirstOrDefault(node => node.Id == nodeId);

    /// <summary>The engine client of a ready node, whatever its availability (a paused or drained node's engine still answers).</summary>
    /// <param name="node">A node from <see cref="ListAsync"/>.</param>
    /// <exception cref="ComputerNodeUnavailableException">The node is not ready or names no engine.</exception>
    public IDockerClient Engine(SwarmNode node) => node is { Ready: true, Endpoint: { } endpoint }
        ? _clients.GetOrAdd(endpoint, address => new DockerClientConfiguration(new Uri(address)).CreateClient())
        : throw new ComputerNodeUnavailableException(node.Id, node.Ready
            ? $"it has no '{EngineLabel}' label naming its engine"
            : SwarmNode.DownReason);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
    }
}

/// <summary>
/// A Swarm node. Its availability is the operator's (<c>docker node update --availability</c>): <c>active</c> runs what it
/// has and takes new tasks; <c>pause</c> keeps running its tasks but takes no new one; <c>drain</c> has its tasks stopped
/// by the manager, which moves them elsewhere, and takes none (Docker's "Drain a node on the swarm" and
/// <c>docker node update</c> reference). A session's computer is pinned to the node that holds its files, so on a paused node
/// it keeps running and serving, but cannot start again there; on a drained node it cannot run at all.
/// </summary>
/// <param name="Id">The Swarm's node id.</param>
/// <param name="Ready">Its status is <c>ready</c>: the manager hears from it and its engine can be called.</param>
/// <param name="Availability"><c>active</c>, <c>pause</c> or <c>drain</c>.</param>
/// <param name="Endpoint">Its engine's address (label <see cref="SwarmNodes.EngineLabel"/>), when set.</param>
/// <param name="Version">The manager's version index of the node's record: it grows with every change the manager stores,
/// its status among them, so a node that was down and is ready again has a higher one than before (0 when not reported).</param>
public sealed record SwarmNode(string Id, bool Ready, string Availability, string? Endpoint, ulong Version)
{
    /// <summary>Why a node that is not ready cannot be used, in words for users.</summary>
    public const string DownReason = "it is down or has left the cluster";

    /// <summary>Ready and not drained: the computers it runs keep running there (<c>active</c> or <c>pause</c>).</summary>
    public bool RunsComputers => Ready && Availability != "drain";

    /// <summary>Ready and <c>active</c>: a computer can start there now.</summary>
    public bool TakesNewComputers => Ready && Availability == "active";

    /// <summary>Why no computer can start on this node now, in words for users; null when one can.</summary>
    public string? NoNewComputersReason => this switch
    {
        { Ready: false } => DownReason,
        { Availability: "drain" } => "it is drained",
        { Availability: "pause" } => "it is paused, and the cluster starts no new computer on a paused node",
        { TakesNewComputers: true } => null,
        _ => $"its availability is '{Availability}'",
    };
}

/// <summary>
/// The node that holds a session's volume cannot be used now (down, drained, gone, or without an engine address). The
/// session's files are kept on that node; a restore succeeds once the node is back. The message is meant for users.
/// </summary>
/// <param name="nodeId">The Swarm node id.</param>
/// <param name="why">What is wrong with it, in words.</param>
public sealed class ComputerNodeUnavailableException(string nodeId, string why)
    : Exception($"The cluster node that holds this session's files ({nodeId}) is not available: {why}. Its files are kept there; restore the session again once the node is back."), IComputerErrorForUsers
{
    /// <summary>The Swarm node id.</summary>
    public string NodeId { get; } = nodeId;
}

/// <summary>
/// The engine of a cluster node ended a computer's task before its container ran (Swarm's task states <c>failed</c>,
/// <c>rejected</c>, <c>complete</c>, <c>shutdown</c> or <c>orphaned</c>), for a reason Raworc does not name itself (the
/// stale network record has its own words, <see cref="ComputerNodeUnavailableException"/>). The engine's own words may
/// name the node's paths, so they go to the API's log, not into this message, which is meant for users.
/// </summary>
/// <param name="nodeId">The Swarm node id.</param>
/// <param name="state">The task's state, lower case, as the manager reports it.</param>
public sealed class ComputerTaskFailedException(string nodeId, string state)
    : Exception($"The engine of cluster node {nodeId} ended this session's computer before it ran (task {state}); the API's log has the engine's reason."), IComputerErrorForUsers
{
    /// <summary>The Swarm node id.</summary>
    public string NodeId { get; } = nodeId;
}

/// <summary>
/// The cluster has no room for a session's computer now, so nothing runs for it: either no node took a new session's
/// placement probe (the Swarm scheduler left it pending, most often because every ready node's unreserved CPU or memory is
/// below what a computer reserves, <c>Computers:Cpus</c> and <c>Computers:MemoryMiB</c>; nothing was made for the session),
/// or the node that holds the session's files (a restore, pinned there) has filled up since its computer last ran (its
/// files stay there). The message is meant for users.
/// </summary>
public sealed class ComputerNoRoomException : Exception, IComputerErrorForUsers
{
    /// <summary>No node took a new session's placement probe.</summary>
    /// <param name="cpus">The CPUs a computer reserves.</param>
    /// <param name="memoryBytes">The memory a computer reserves, in bytes.</param>
    /// <param name="schedulerReason">The probe task's error as the manager reported it (e.g. <c>no suitable node (insufficient
    /// resources on 2 nodes)</c>), or null when it gave none.</param>
    public ComputerNoRoomException(double cpus, long memoryBytes, string? schedulerReason)
        : base($"No node of the cluster has room for this session's computer now ({Reserves(cpus, memoryBytes, schedulerReason)}). "
            + "Close or delete a session, or add a node, and create the session again.")
    {
    }

    /// <summary>The node that holds the session's files has no room for its computer: the pinned task stayed pending.</summary>
    /// <param name="nodeId">The Swarm id of the node the session is pinned to.</param>
    /// <param name="cpus">The CPUs a computer reserves.</param>
    /// <param name="memoryBytes">The memory a computer reserves, in bytes.</param>
    /// <param name="schedulerReason">The pending task's error as the manager reported it (e.g. <c>no suitable node
    /// (insufficient resources on 1 node; scheduling constraints not satisfied on 1 node)</c>), or null when it gave none.</param>
    public ComputerNoRoomException(string nodeId, double cpus, long memoryBytes, string? schedulerReason)
        : base($"The cluster node that holds this session's files ({nodeId}) has no room for its computer now "
            + $"({Reserves(cpus, memoryBytes, schedulerReason)}). Its files are kept there; close or delete another session "
            + "on that node, then restore this one again.")
    {
        NodeId = nodeId;
    }

    /// <summary>The node the session is pinned to, when the refusal is a restore's; null for a new session.</summary>
    public string? NodeId { get; }

    private static string Reserves(double cpus, long memoryBytes, string? schedulerReason) => string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"it reserves {cpus} CPU and {memoryBytes / (1024 * 1024)} MiB; the cluster's scheduler says: {schedulerReason ?? "no reason given"}");
}
