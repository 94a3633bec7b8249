using System.Collections.Concurrent;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Raworc.ApiService.Computers.Swarm;

/// <summary>Which node a computer runs on, its volume there, the computers' network, and remix copies.</summary>
public sealed partial class SwarmComputerProvider
{
    /// <summary>How long the scheduler may take to assign a new session's placement probe to a node.</summary>
    private static readonly TimeSpan PlacementTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Nodes whose local configuration of the computers' network was found or made, with the node's
    /// <see cref="SwarmNode.Version"/> then: a node whose record changed since (it was down and is back, its engine perhaps
    /// with a fresh network store) is checked again.
    /// </summary>
    private readonly ConcurrentDictionary<string, ulong> _networkNodes = new(StringComparer.Ordinal);

    /// <summary>
    /// One check of the nodes' network configurations at a time: two starts that both found it missing made it twice on a
    /// node (Docker's duplicate-name check does not cover configuration-only networks; seen on the test cluster).
    /// </summary>
    private readonly SemaphoreSlim _networkGate = new(1, 1);

    /// <inheritdoc />
    /// <remarks>The child is pinned beside its parent: the copy runs on the parent's node (a helper container there, as on
    /// the Docker provider), the child's volume is made there, and the child's first start finds it there.</remarks>
    public async Task CopyVolumeAsync(Guid fromSessionId, Guid toSessionId, CopyParts parts, CancellationToken cancellationToken)
    {
        var node = await HolderAsync(fromSessionId, cancellationToken)
            ?? throw new ComputerCopyFailedException("The parent session's files could not be copied: its volume does not exist.");
        await NodeProvider(node).CopyVolumeAsync(fromSessionId, toSessionId, parts, cancellationToken);
    }

    /// <summary>
    /// The node of a session's computer: the node its service is pinned to; else the ready node that holds its volume (a
    /// remix's child, or a restore whose service was removed); else the node the Swarm scheduler picks for a probe task with
    /// the session's reservations. <c>Pinned</c> is true when the node holds the session's files (the computer can run
    /// nowhere else), false when the scheduler picked it.
    /// </summary>
    /// <exception cref="ComputerNodeUnavailableException">The session's node is not ready.</exception>
    private async Task<(SwarmNode Node, bool Pinned)> PlaceAsync(Guid sessionId, string image, long memoryBytes, CancellationToken cancellationToken) =>
        await HolderAsync(sessionId, cancellationToken) is { } holder
            ? (holder, true)
            : (await ProbeAsync(sessionId, image, memoryBytes, cancellationToken), false);

    /// <summary>The node that holds the session's files, or null when none does.</summary>
    /// <exception cref="ComputerNodeUnavailableException">The service is pinned to a node that takes no new computer now: down,
    /// gone, drained or paused (<see cref="SwarmNode.NoNewComputersReason"/>).</exception>
    private async Task<SwarmNode?> HolderAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var listed = await nodes.ListAsync(cancellationToken);
        if (await FindServiceAsync(sessionId, cancellationToken) is { } service && NodeOf(service) is { } pinned)
        {
            var node = listed.FirstOrDefault(n => n.Id == pinned) ?? throw new ComputerNodeUnavailableException(pinned, "it has left the cluster");
            if (node.NoNewComputersReason is { } reason)
            {
                throw new ComputerNodeUnavailableException(node.Id, reason);
            }
            nodes.Engine(node);
            return node;
        }
        var name = DockerComputerProvider.NameOf(sessionId);
        foreach (var node in listed.Where(n => n is { Ready: true, Endpoint: not null }))
        {
            if (await VolumeExistsAsync(nodes.Engine(node), name, cancellationToken))
            {
                return node;
            }
        }
        return null;
    }

    /// <summary>
    /// Lets the Swarm scheduler choose: a one-shot service with the computer's reservations and no constraint, removed as
    /// soon as its task is assigned. A cluster with no node that has the room leaves the task pending: then this fails.
    /// </summary>
    /// <exception cref="ComputerNoRoomException">No node took the probe within <see cref="PlacementTimeout"/>.</exception>
    private async Task<SwarmNode> ProbeAsync(Guid sessionId, string image, long memoryBytes, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var labels = Labels(sessionId, pooled: false);
        labels[ComputerLabels.Role] = "place";
        var name = $"raworc-place-{sessionId:D}";
        await RemoveServiceAsync(name, cancellationToken);
        var nanoCpus = (long)Math.Round(settings.Cpus * 1_000_000_000);
        var created = await manager.Swarm.CreateServiceAsync(new ServiceCreateParameters
        {
            Service = new ServiceSpec
            {
                Name = name,
                Labels = labels,
                Mode = new ServiceMode { Replicated = new ReplicatedService { Replicas = 1 } },
                TaskTemplate = new TaskSpec
                {
                    ContainerSpec = new ContainerSpec { Image = image, Command = ["/bin/true"], User = DockerComputerProvider.ContainerUser, Labels = labels },
                    Resources = new ResourceRequirements { Reservations = new SwarmResources { NanoCPUs = nanoCpus, MemoryBytes = memoryBytes } },
                    RestartPolicy = new SwarmRestartPolicy { Condition = "none" },
                },
            },
        }, cancellationToken);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(PlacementTimeout);
            string? why = null;
            while (!timeout.IsCancellationRequested)
            {
                foreach (var task in await TasksAsync(created.ID, cancellationToken))
                {
                    if (task.NodeID is { Length: > 0 } nodeId && await nodes.FindAsync(nodeId, cancellationToken) is { } node)
                    {
                        nodes.Engine(node);
                        return node;
                    }
                    why = task.Status?.Err ?? why;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
            throw new ComputerNoRoomException(settings.Cpus, memoryBytes, why);
        }
        finally
        {
            await RemoveServiceAsync(name, CancellationToken.None);
        }
    }

    /// <summary>
    /// Makes the session's volume on the node when missing and writes into it what the Docker provider writes before a
    /// start (the seed of a new volume, else the folders and the start's Host token), through a never-started container.
    /// </summary>
    /// <returns>Whether the volume was made by this call.</returns>
    private async Task<bool> SeedAsync(IDockerClient engine, ComputerSpec spec, string image, CancellationToken cancellationToken)
    {
        var name = DockerComputerProvider.NameOf(spec.SessionId);
        var isNew = !await VolumeExistsAsync(engine, name, cancellationToken);
        if (isNew)
        {
            await engine.Volumes.CreateAsync(new VolumesCreateParameters { Name = name, Labels = Labels(spec.SessionId, pooled: false) }, cancellationToken);
        }
        var labels = Labels(spec.SessionId, pooled: false);
        labels[ComputerLabels.Role] = "seed";
        var helper = $"raworc-seed-{spec.SessionId:D}";
        await RemoveContainerAsync(engine, helper, cancellationToken);
        try
        {
            var created = await engine.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Name = helper,
                Image = image,
                User = DockerComputerProvider.ContainerUser,
                Labels = labels,
                HostConfig = new HostConfig
                {
                    NetworkMode = "none",
                    Mounts = [new Mount { Type = "volume", Source = name, Target = DockerComputerProvider.SessionPath }],
                },
            }, cancellationToken);
            using var archive = isNew ? SessionArchive.Seed(spec) : SessionArchive.Layout(spec.HostToken);
            await engine.Containers.ExtractArchiveToContainerAsync(
                created.ID, new ContainerPathStatParameters { Path = DockerComputerProvider.SessionPath }, archive, cancellationToken);
        }
        catch (Exception exception)
        {
            if (isNew)
            {
                await RemoveContainerAsync(engine, helper, CancellationToken.None);
                await RemoveVolumeAsync(engine, name, CancellationToken.None);
            }
            if (exception is DockerImageNotFoundException)
            {
                throw new ComputerImageNotFoundException(image);
            }
            throw;
        }
        finally
        {
            await RemoveContainerAsync(engine, helper, CancellationToken.None);
        }
        return isNew;
    }

    /// <summary>
    /// The computers' network: a Swarm-scoped <c>bridge</c> network (<see cref="ComputerOptions.Network"/>) made from a
    /// per-node configuration (<c>&lt;network&gt;-config</c>) with inter-container traffic off and the Linux bridge named
    /// <see cref="ComputerOptions.BridgeName"/>, so each node keeps its computers apart as the Docker provider does and no
    /// traffic crosses nodes at all (no overlay). <see langword="null"/> with <see cref="ComputerEgress.None"/>.
    /// </summary>
    private async Task<string?> EnsureNetworkAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.Egress == ComputerEgress.None)
        {
            return null;
        }
        var config = $"{settings.Network}-config";
        bool Unchecked(SwarmNode node) => !(_networkNodes.TryGetValue(node.Id, out var version) && version == node.Version);
        var toCheck = (await nodes.ListAsync(cancellationToken)).Where(n => n is { Ready: true, Endpoint: not null } && Unchecked(n)).ToList();
        if (toCheck.Count > 0)
        {
            await _networkGate.WaitAsync(cancellationToken);
            try
            {
                foreach (var node in toCheck.Where(Unchecked))
                {
                    await CreateNetworkAsync(nodes.Engine(node), new NetworksCreateParameters
                    {
                        Name = config,
                        ConfigOnly = true,
                        Labels = new Dictionary<string, string> { [ComputerLabels.Managed] = "true" },
                        Options = ComputerNetwork.BridgeOptions(settings.BridgeName),
                    }, cancellationToken);
                    _networkNodes[node.Id] = node.Version;
                }
            }
            finally
            {
                _networkGate.Release();
            }
        }
        await CreateNetworkAsync(manager, new NetworksCreateParameters
        {
            Name = settings.Network,
            Driver = "bridge",
            Scope = "swarm",
            // No labels or options: the engine refuses any of its own settings on a network made from a configuration.
            ConfigFrom = new ConfigReference { Network = config },
        }, cancellationToken);
        return settings.Network;
    }

    private static async Task CreateNetworkAsync(IDockerClient engine, NetworksCreateParameters parameters, CancellationToken cancellationToken)
    {
        var existing = await engine.Networks.ListNetworksAsync(new NetworksListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["name"] = new Dictionary<string, bool> { [parameters.Name] = true } },
        }, cancellationToken);
        if (existing.Any(network => network.Name == parameters.Name))
        {
            return;
        }
        try
        {
            parameters.CheckDuplicate = true;
            await engine.Networks.CreateNetworkAsync(parameters, cancellationToken);
        }
        catch (DockerApiException exception) when (exception.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            // Another replica made it first.
        }
    }

    private static async Task<bool> VolumeExistsAsync(IDockerClient engine, string name, CancellationToken cancellationToken)
    {
        try
        {
            await engine.Volumes.InspectAsync(name, cancellationToken);
            return true;
        }
        catch (DockerApiException exception) when (exception.StatusCode is System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    private static async Task RemoveVolumeAsync(IDockerClient engine, string name, CancellationToken cancellationToken)
    {
        try
        {
            await engine.Volumes.RemoveAsync(name, force: true, cancellationToken);
        }
        catch (DockerApiException exception) when (exception.StatusCode is System.Net.HttpStatusCode.NotFound)
        {
        }
    }

    private static async Task RemoveContainerAsync(IDockerClient engine, string name, CancellationToken cancellationToken)
    {
        try
        {
            await engine.Containers.RemoveContainerAsync(name, new ContainerRemoveParameters { Force = true }, cancellationToken);
        }
        catch (DockerApiException exception) when (exception.StatusCode is System.Net.HttpStatusCode.NotFound)
        {
        }
    }
}
