using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Options;

namespace Raworc.ApiService.Computers.Swarm;

/// <summary>
/// Session computers on a Docker Swarm (<c>Computers:Provider=swarm</c>; checked against engines 20.10, API 1.41): each
/// session's computer is a one-replica service named <c>raworc-session-&lt;id&gt;</c> with the Docker provider's labels,
/// limits, user, environment and mounts (<see cref="SwarmServiceSpec"/>), on a volume of the same name that lives on one
/// node; the service is pinned to that node (<c>node.id==…</c>, and the label <c>raworc.node</c>) so every restore finds
/// the files. A new session's node is the one the Swarm scheduler picks within the session's reservations
/// (<see cref="PlaceAsync"/>); a remix's child is pinned beside its parent, whose node holds the files it copies.
/// </summary>
/// <remarks>
/// Stop scales the service to 0 replicas and keeps it: the service remembers the node, even while that node is down.
/// A session whose node is down is closed by <see cref="SwarmNodeWatch"/> with a <c>system</c> message (files kept); a
/// restore then fails with <see cref="ComputerNodeUnavailableException"/>'s message until the node is back.
/// The manager is <see cref="ComputerOptions.DockerEndpoint"/>; per-node work goes to each node's engine
/// (<see cref="SwarmNodes"/>). The Host token is written into the volume before the service exists, never into the spec.
/// </remarks>
public sealed partial class SwarmComputerProvider(
    IDockerClient manager, SwarmNodes nodes, IOptions<ComputerOptions> options, ILoggerFactory loggers) : IComputerProvider
{
    private readonly ILogger _logger = loggers.CreateLogger<SwarmComputerProvider>();

    /// <summary>How long a create waits for its task's container, and a stop for the task to end.</summary>
    private static readonly TimeSpan TaskTimeout = TimeSpan.FromSeconds(60);

    /// <inheritdoc />
    public Task<ComputerHandle> CreateAsync(ComputerSpec spec, CancellationToken cancellationToken) => CreateAsync(spec, null, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// Swarm starts a task's container itself, so <paramref name="beforeStart"/> runs as soon as the task's container is
    /// known, which may be after its agent started: the record it makes is matched by the start's generation and a live
    /// state rather than by <c>init</c>, so an early ready report cannot make it miss (README "Warm pool").
    /// </remarks>
    public async Task<ComputerHandle> CreateAsync(
        ComputerSpec spec, Func<ComputerHandle, CancellationToken, Task>? beforeStart, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var name = DockerComputerProvider.NameOf(spec.SessionId);
        var image = spec.Desktop ? settings.DesktopImage : settings.Image;
        var memory = (spec.Desktop ? Math.Max(settings.DesktopMemoryMiB, settings.MemoryMiB) : settings.MemoryMiB) * 1024L * 1024L;
        var env = DockerComputerProvider.BuildEnvironment(spec, settings);
        var labels = Labels(spec.SessionId, spec.PoolToken is not null);

        var (node, pinned) = await PlaceAsync(spec.SessionId, image, memory, cancellationToken);
        var engine = nodes.Engine(node);
        var network = await EnsureNetworkAsync(cancellationToken);
        // The previous service (stopped at 0 replicas, or one whose task exited) is replaced by a fresh one.
        await RemoveServiceAsync(name, cancellationToken);
        var isNewVolume = await SeedAsync(engine, spec, image, cancellationToken);
        try
        {
            var created = await manager.Swarm.CreateServiceAsync(new ServiceCreateParameters
            {
                Service = SwarmServiceSpec.Build(name, image, env, labels, node.Id, memory, settings, network),
            }, cancellationToken);
            var containerId = await WaitForContainerAsync(created.ID, node, pinned, memory, cancellationToken);
            var handle = new ComputerHandle(containerId, name);
            if (beforeStart is not null)
            {
                await beforeStart(handle, cancellationToken);
            }
            LogStarted(spec.SessionId, node.Id, containerId, isNewVolume);
            return handle;
        }
        catch (Exception)
        {
            await RemoveServiceAsync(name, CancellationToken.None);
            if (isNewVolume)
            {
                await RemoveVolumeAsync(engine, name, CancellationToken.None);
            }
            throw;
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var service = await FindServiceAsync(sessionId, cancellationToken);
        if (service is null)
        {
            return;
        }
        await ScaleToZeroAsync(service, cancellationToken);
        LogStopped(sessionId);
    }

    /// <inheritdoc />
    public async Task RemoveComputerAsync(ComputerInfo computer, CancellationToken cancellationToken)
    {
        var service = await FindServiceAsync(computer.SessionId, cancellationToken);
        if (service is null)
        {
            return;
        }
        // Only the very task that was listed: a restore since then made a new service, whose task is left alone.
        var tasks = await TasksAsync(service.ID, cancellationToken);
        if (tasks.Any(task => ContainerOf(task) == computer.ContainerId))
        {
            await ScaleToZeroAsync(service, cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var name = DockerComputerProvider.NameOf(sessionId);
        var pinned = (await FindServiceAsync(sessionId, cancellationToken)) is { } service ? NodeOf(service) : null;
        await RemoveServiceAsync(name, cancellationToken);
        foreach (var node in await nodes.ListAsync(cancellationToken))
        {
            if (!node.Ready)
            {
                // The node that holds the files must take part: a delete is retried until it is back.
                if (node.Id == pinned)
                {
                    throw new ComputerNodeUnavailableException(node.Id, SwarmNode.DownReason);
                }
                continue;
            }
            // A Docker provider on the node engine removes what it holds: remix helpers and the volume; then the home's volume.
            await NodeProvider(node).DeleteAsync(sessionId, cancellationToken);
            await RemoveVolumeAsync(nodes.Engine(node), SwarmServiceSpec.HomeVolumeOf(name), cancellationToken);
        }
        LogDeleted(sessionId);
    }

    /// <inheritdoc />
    public async Task<string?> ReadFileAsync(Guid sessionId, string path, CancellationToken cancellationToken) =>
        await RunningContainerAsync(sessionId, cancellationToken) is var (engine, container)
            ? await DockerComputerProvider.ReadContainerFileAsync(engine, container, path, cancellationToken)
            : null;

    /// <inheritdoc />
    public async Task<byte[]?> CaptureScreenAsync(Guid sessionId, int maxBytes, CancellationToken cancellationToken) =>
        await RunningContainerAsync(sessionId, cancellationToken) is var (engine, container)
            ? await DockerComputerProvider.CaptureContainerScreenAsync(engine, container, maxBytes, cancellationToken)
            : null;

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<Guid, long>> MeasureVolumesAsync(CancellationToken cancellationToken)
    {
        var sizes = new Dictionary<Guid, long>();
        foreach (var node in (await nodes.ListAsync(cancellationToken)).Where(node => node is { Ready: true, Endpoint: not null }))
        {
            foreach (var (session, bytes) in await DockerComputerProvider.MeasureEngineVolumesAsync(node.Endpoint!, options.Value.Deployment, cancellationToken))
            {
                sizes[session] = bytes;
            }
        }
        return sizes;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Each ready node counts the asked sessions' volumes it holds, with the Docker provider's helper container on that node;
    /// a volume is never named on a node that does not hold it (the helper's mount would make it there, empty). A node that
    /// is not ready counts nothing this time. Before, the Swarm provider counted nothing, so a volume of many empty folders
    /// or files (which the engine's measurement counts as 0 bytes) outgrew its limits unnoticed (ComputerBoundaryTests on Swarm).
    /// </remarks>
    public async Task<IReadOnlyDictionary<Guid, VolumeCount>> CountVolumesAsync(IReadOnlyCollection<Guid> sessionIds, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<Guid, VolumeCount>();
        var asked = sessionIds.ToHashSet();
        foreach (var node in (await nodes.ListAsync(cancellationToken)).Where(node => node is { Ready: true, Endpoint: not null }))
        {
            var engine = NodeProvider(node);
            var held = (await engine.ListVolumesAsync(cancellationToken)).Where(asked.Contains).ToList();
            foreach (var (session, count) in await engine.CountVolumesAsync(held, cancellationToken))
            {
                counts[session] = count;
            }
        }
        return counts;
    }

    /// <inheritdoc />
    public async Task<string?> ImageIdAsync(CancellationToken cancellationToken)
    {
        try
        {
            return (await manager.Images.InspectImageAsync(options.Value.Image, cancellationToken)).ID;
        }
        catch (DockerApiException exception) when (exception.StatusCode is System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await manager.System.PingAsync(timeout.Token);
            return true;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LogUnreachable(FailureText.DescribeForLog(exception));
            return false;
        }
    }

    /// <summary>The Docker provider on one node's engine: volumes, helpers and copies are single-engine work.</summary>
    private DockerComputerProvider NodeProvider(SwarmNode node) => new(
        nodes.Engine(node), options, new ComputerNetwork(nodes.Engine(node), options, loggers.CreateLogger<ComputerNetwork>()),
        loggers.CreateLogger<DockerComputerProvider>());

    [LoggerMessage(LogLevel.Information, "Computer of session {SessionId} started on node {NodeId}: container {ContainerId}, new volume: {NewVolume}")]
    private partial void LogStarted(Guid sessionId, string nodeId, string containerId, bool newVolume);

    [LoggerMessage(LogLevel.Warning, "Computer task of service {ServiceId} on node {NodeId} ended ({State}) before it ran; the engine said: {EngineError}")]
    private partial void LogTaskEnded(string serviceId, string nodeId, string state, string engineError);

    [LoggerMessage(LogLevel.Information, "Computer of session {SessionId} scaled to 0; its service and volume are kept")]
    private partial void LogStopped(Guid sessionId);

    [LoggerMessage(LogLevel.Information, "Computer and volume of session {SessionId} deleted")]
    private partial void LogDeleted(Guid sessionId);

    [LoggerMessage(LogLevel.Warning, "Swarm manager unreachable: {Reason}")]
    private partial void LogUnreachable(string reason);
}
