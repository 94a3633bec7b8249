using Docker.DotNet;
using Docker.DotNet.Models;

namespace Raworc.ApiService.Computers.Swarm;

/// <summary>Listing and changing the sessions' services and tasks.</summary>
public sealed partial class SwarmComputerProvider
{
    /// <summary>Task states before the container runs.</summary>
    private static readonly HashSet<string> StartingStates = ["new", "allocated", "pending", "assigned", "accepted", "preparing", "ready", "starting"];

    /// <inheritdoc />
    /// <remarks>
    /// One entry per service with a replica: its newest task's container. A task on a node that is not ready or is drained lists as
    /// <see cref="ComputerState.Running"/>: <see cref="SwarmNodeWatch"/>, not the reconciler, closes its session. A warm-pool
    /// computer's running task carries the image id its node's engine reports (what the pool checks before keeping it); none
    /// when its node is not ready, so the pool replaces it rather than hand out a computer nobody can reach.
    /// </remarks>
    public async Task<IReadOnlyList<ComputerInfo>> ListAsync(CancellationToken cancellationToken)
    {
        var listed = await nodes.ListAsync(cancellationToken);
        var running = listed.Where(node => node.RunsComputers).Select(node => node.Id).ToHashSet();
        var computers = new List<ComputerInfo>();
        foreach (var service in await OwnedServicesAsync(cancellationToken))
        {
            if (service.Spec.Mode?.Replicated?.Replicas is not > 0
                || !service.Spec.Labels.TryGetValue(ComputerLabels.Session, out var label) || !Guid.TryParse(label, out var sessionId))
            {
                continue;
            }
            var task = (await TasksAsync(service.ID, cancellationToken)).OrderByDescending(t => t.Version?.Index ?? 0).FirstOrDefault();
            if (task is null)
            {
                continue;
            }
            var state = task.Status?.State.ToString().ToLowerInvariant() ?? "new";
            // A node that is down says nothing about its task, and a drained one's is being moved off it; SwarmNodeWatch closes
            // such sessions with a message saying why (a paused node's computers keep running and are listed as they are),
            // so here the computer counts as running (else the reconciler would close it first, without a word).
            var (computerState, exitCode) = !running.Contains(NodeOf(service) ?? task.NodeID ?? "")
                ? (ComputerState.Running, (int?)null)
                : state switch
                {
                    "running" => (ComputerState.Running, (int?)null),
                    _ when StartingStates.Contains(state) => (ComputerState.Created, (int?)null),
                    _ => (ComputerState.Exited, (int?)(task.Status?.ContainerStatus?.ExitCode ?? 0)),
                };
            var imageId = computerState == ComputerState.Running && service.Spec.Labels.ContainsKey(DockerComputerProvider.PooledLabel)
                ? await ImageOfAsync(task, listed, cancellationToken) : null;
            var outOfMemory = computerState == ComputerState.Exited && await OutOfMemoryAsync(task, listed, cancellationToken);
            computers.Add(new ComputerInfo(sessionId, ContainerOf(task) ?? task.ID, computerState, exitCode, imageId, outOfMemory));
        }
        return computers;
    }

    /// <inheritdoc />
    /// <remarks>Volumes on every ready node, plus the sessions whose service pins them to a node that is not ready.</remarks>
    public async Task<IReadOnlyList<Guid>> ListVolumesAsync(CancellationToken cancellationToken)
    {
        var sessions = new HashSet<Guid>();
        var listed = await nodes.ListAsync(cancellationToken);
        foreach (var node in listed.Where(node => node is { Ready: true, Endpoint: not null }))
        {
            sessions.UnionWith(await NodeProvider(node).ListVolumesAsync(cancellationToken));
        }
        var down = listed.Where(node => !node.Ready).Select(node => node.Id).ToHashSet();
        foreach (var service in await OwnedServicesAsync(cancellationToken))
        {
            if (down.Contains(NodeOf(service) ?? "")
                && service.Spec.Labels.TryGetValue(ComputerLabels.Session, out var label) && Guid.TryParse(label, out var id))
            {
                sessions.Add(id);
            }
        }
        return [.. sessions];
    }

    /// <summary>
    /// The sessions whose service has a replica and is pinned to a node where its computer cannot run: down, drained or gone
    /// (not a paused one, whose computers keep running): session → node id.
    /// </summary>
    /// <param name="cancellationToken">Cancels the manager calls.</param>
    public async Task<IReadOnlyDictionary<Guid, string>> StrandedAsync(CancellationToken cancellationToken)
    {
        var running = (await nodes.ListAsync(cancellationToken)).Where(node => node.RunsComputers).Select(node => node.Id).ToHashSet();
        var stranded = new Dictionary<Guid, string>();
        foreach (var service in await OwnedServicesAsync(cancellationToken))
        {
            if (service.Spec.Mode?.Replicated?.Replicas is > 0 && NodeOf(service) is { } node && !running.Contains(node)
                && service.Spec.Labels.TryGetValue(ComputerLabels.Session, out var label) && Guid.TryParse(label, out var id))
            {
                stranded[id] = node;
            }
        }
        return stranded;
    }

    private Dictionary<string, string> Labels(Guid sessionId, bool pooled)
    {
        var labels = new Dictionary<string, string> { [ComputerLabels.Managed] = "true", [ComputerLabels.Session] = sessionId.ToString("D") };
        if (options.Value.Deployment is { Length: > 0 } deployment)
        {
            labels[ComputerLabels.Deployment] = deployment;
        }
        if (pooled)
        {
            labels[DockerComputerProvider.PooledLabel] = "true";
        }
        return labels;
    }

    private async Task<IList<SwarmService>> OwnedServicesAsync(CancellationToken cancellationToken)
    {
        var owned = options.Value.Deployment is { Length: > 0 } deployment
            ? $"{ComputerLabels.Deployment}={deployment}" : $"{ComputerLabels.Managed}=true";
        var services = await manager.Swarm.ListServicesAsync(new ServicesListParameters
        {
            Filters = new ServiceFilter { Label = [owned] },
        }, cancellationToken);
        return services.Where(service => !service.Spec.Labels.ContainsKey(ComputerLabels.Role)).ToList();
    }

    private async Task<SwarmService?> FindServiceAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        try
        {
            var service = await manager.Swarm.InspectServiceAsync(DockerComputerProvider.NameOf(sessionId), cancellationToken);
            // Another deployment's service of the same name is not this one's.
            return options.Value.Deployment is { Length: > 0 } deployment
                && (!service.Spec.Labels.TryGetValue(ComputerLabels.Deployment, out var owner) || owner != deployment) ? null : service;
        }
        catch (DockerApiException exception) when (exception.StatusCode is System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task<IList<TaskResponse>> TasksAsync(string serviceId, CancellationToken cancellationToken) =>
        await manager.Tasks.ListAsync(new TasksListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["service"] = new Dictionary<string, bool> { [serviceId] = true } },
        }, cancellationToken);

    private async Task RemoveServiceAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await manager.Swarm.RemoveServiceAsync(name, cancellationToken);
        }
        catch (DockerApiException exception) when (exception.StatusCode is System.Net.HttpStatusCode.NotFound)
        {
        }
    }

    /// <summary>Scales to 0 and waits until no task of the service runs any more (at most <see cref="TaskTimeout"/>).</summary>
    private async Task ScaleToZeroAsync(SwarmService service, CancellationToken cancellationToken)
    {
        if (service.Spec.Mode?.Replicated?.Replicas is > 0)
        {
            service.Spec.Mode.Replicated.Replicas = 0;
            await manager.Swarm.UpdateServiceAsync(service.ID, new ServiceUpdateParameters
            {
                Service = service.Spec,
                Version = (long)service.Version.Index,
            }, cancellationToken);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TaskTimeout + SwarmServiceSpec.StopGrace);
        // A task on a node that is down cannot be waited for: its node stops it when it comes back (desired state 0).
        var ready = (await nodes.ListAsync(timeout.Token)).Where(node => node.Ready).Select(node => node.Id).ToHashSet();
        while ((await TasksAsync(service.ID, timeout.Token)).Any(task => IsActive(task) && ready.Contains(task.NodeID)))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), timeout.Token);
        }
    }

    /// <summary>
    /// Waits until the service's task has a running container; its id, or an error for a task that failed. A task the
    /// scheduler keeps pending with a reason (its node has no room left for the reservations) for
    /// <see cref="PlacementTimeout"/> is a refusal, not a slow start.
    /// </summary>
    /// <exception cref="ComputerNoRoomException">The task stayed pending on <paramref name="node"/> for
    /// <see cref="PlacementTimeout"/>; carries the scheduler's reason.</exception>
    private async Task<string> WaitForContainerAsync(string serviceId, SwarmNode node, bool pinned, long memoryBytes, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TaskTimeout);
        var pendingSince = (DateTimeOffset?)null;
        while (true)
        {
            string? pendingReason = null;
            foreach (var task in await TasksAsync(serviceId, timeout.Token))
            {
                var state = task.Status?.State.ToString().ToLowerInvariant();
                if (state == "running" && ContainerOf(task) is { } container)
                {
                    return container;
                }
                if (state is "failed" or "rejected" or "complete" or "shutdown" or "orphaned")
                {
                    if (IsStaleNetwork(task.Status?.Err))
                    {
                        throw new ComputerNodeUnavailableException(node.Id, StaleNetworkReason);
                    }
                    LogTaskEnded(serviceId, node.Id, state, task.Status?.Err ?? "(none given)");
                    throw new ComputerTaskFailedException(node.Id, state);
                }
                if (state == "pending" && task.Status?.Err is { Length: > 0 } reason)
                {
                    pendingReason = reason;
                }
            }
            if (pendingReason is null)
            {
                pendingSince = null;
            }
            else if ((pendingSince ??= DateTimeOffset.UtcNow) + PlacementTimeout <= DateTimeOffset.UtcNow)
            {
                throw pinned
                    ? new ComputerNoRoomException(node.Id, options.Value.Cpus, memoryBytes, pendingReason)
                    : new ComputerNoRoomException(options.Value.Cpus, memoryBytes, pendingReason);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), timeout.Token);
        }
    }

    /// <summary>
    /// Why a node whose engine refuses every task on the computers' network cannot run a computer, in words for users. The
    /// engine kept its record of the Swarm network through a stop that did not finish removing it (Docker's own bug,
    /// moby/moby#37087, still open in 2026; seen on the test cluster when a node's engine was stopped on a loaded machine),
    /// and then fails each task with <c>network &lt;id&gt; exists</c> until the record goes (README "Providers: Docker and
    /// Swarm" gives the operator's remedy).
    /// </summary>
    internal const string StaleNetworkReason =
        "its Docker engine keeps a stale record of the computers' network from before it stopped (Docker issue moby/moby#37087) "
        + "and refuses every computer there until an operator clears it";

    /// <summary>Whether a task's error is the engine's refusal of a stale Swarm network: <c>network &lt;id&gt; exists</c>.</summary>
    /// <param name="error">The task status's <c>Err</c>, as the manager reports it.</param>
    internal static bool IsStaleNetwork(string? error) =>
        error is { Length: > 15 } text && text.StartsWith("network ", StringComparison.Ordinal) && text.EndsWith(" exists", StringComparison.Ordinal)
        && !text["network ".Length..^" exists".Length].Contains(' ', StringComparison.Ordinal);

    /// <summary>The engine and container id of the session's running task, or null when it has none.</summary>
    private async Task<(IDockerClient Engine, string Container)?> RunningContainerAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        if (await FindServiceAsync(sessionId, cancellationToken) is not { } service)
        {
            return null;
        }
        var task = (await TasksAsync(service.ID, cancellationToken))
            .FirstOrDefault(t => t.Status?.State.ToString().Equals("running", StringComparison.OrdinalIgnoreCase) == true);
        if (task is null || ContainerOf(task) is not { } container || await nodes.FindAsync(task.NodeID, cancellationToken) is not { Ready: true } node)
        {
            return null;
        }
        return (nodes.Engine(node), container);
    }

    /// <summary>
    /// Whether an exited task's container was killed for want of memory, as its node's engine says (the task's status does
    /// not; before, a Swarm computer that ran out of memory was reported as a plain exit); false when it cannot be read.
    /// </summary>
    private async Task<bool> OutOfMemoryAsync(TaskResponse task, IReadOnlyList<SwarmNode> listed, CancellationToken cancellationToken)
    {
        if (ContainerOf(task) is not { } container || listed.FirstOrDefault(node => node.Id == task.NodeID) is not { Ready: true, Endpoint: not null } node)
        {
            return false;
        }
        try
        {
            return (await nodes.Engine(node).Containers.InspectContainerAsync(container, cancellationToken)).State?.OOMKilled ?? false;
        }
        catch (DockerContainerNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The image id (<c>sha256:…</c>) of a running task's container, from its node's engine; null when it cannot be read.</summary>
    private async Task<string?> ImageOfAsync(TaskResponse task, IReadOnlyList<SwarmNode> listed, CancellationToken cancellationToken)
    {
        if (ContainerOf(task) is not { } container || listed.FirstOrDefault(node => node.Id == task.NodeID) is not { Ready: true, Endpoint: not null } node)
        {
            return null;
        }
        try
        {
            return (await nodes.Engine(node).Containers.InspectContainerAsync(container, cancellationToken)).Image;
        }
        catch (DockerContainerNotFoundException)
        {
            return null;
        }
    }

    private static bool IsActive(TaskResponse task) =>
        task.Status?.State.ToString().ToLowerInvariant() is { } state && (state == "running" || StartingStates.Contains(state));

    private static string? ContainerOf(TaskResponse task) => task.Status?.ContainerStatus?.ContainerID is { Length: > 0 } id ? id : null;

    private static string? NodeOf(SwarmService service) =>
        service.Spec.Labels.TryGetValue(SwarmServiceSpec.NodeLabel, out var node) ? node : null;
}
