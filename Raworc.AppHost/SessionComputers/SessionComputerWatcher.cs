using System.Collections.Concurrent;
using System.Threading.Channels;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Raworc.AppHost.SessionComputers;

/// <summary>
/// Keeps the dashboard's list of session computers current. Once the API is healthy it reads the deployment id from
/// the database (table <c>deployment</c>, the id the API labels its containers with), subscribes to the container events
/// for the label <c>raworc.deployment=&lt;id&gt;</c> of the Docker engine the API was given (<see cref="EngineOfAsync"/>),
/// lists the containers that exist, and publishes one
/// <see cref="SessionComputerResource"/> per session computer (helper containers, labelled <c>raworc.role</c>, are left
/// out): state, image, container id and name, runtime, session id, node, created/started/stopped times and exit code.
/// A computer is named by its session, <c>raworc-session-&lt;session id&gt;</c> (a pooled computer not yet claimed, by its
/// container's name). A computer that is removed is hidden (state <c>Removed</c>); one that comes back under the same
/// name (a restored session) shows again. A dropped event stream is re-opened with a backoff of 1 s doubling to 30 s,
/// after a fresh listing.
/// With <c>Computers__Provider=swarm</c> in the API's environment, that engine is the Swarm's manager: the watcher lists
/// its nodes every <see cref="NodePoll"/> and watches each ready node's own engine (its <c>raworc.engine</c> node label,
/// as the API reaches it) the same way, so a computer shows whichever node runs it; a node that goes down or leaves stops
/// being watched and its computers are hidden until it is back.
/// </summary>
internal sealed class SessionComputerWatcher(IResource api, IResourceWithConnectionString database,
    DistributedApplicationExecutionContext executionContext, ResourceNotificationService notifications, ResourceLoggerService loggers,
    ILogger<SessionComputerWatcher> logger) : BackgroundService
{
    /// <summary>The state shown for a computer whose container is gone (the resource is hidden as well).</summary>
    public const string RemovedState = "Removed";

    private static readonly HashSet<string> Refreshing = ["create", "start", "restart", "die", "stop", "kill", "pause", "unpause", "oom"];
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>How often the Swarm's node list is read (a node that joins, comes back or leaves is seen within this).</summary>
    public static readonly TimeSpan NodePoll = TimeSpan.FromSeconds(5);

    /// <summary>The prefix of a session computer's resource name, before the session id ("D" format).</summary>
    public const string NamePrefix = "raworc-session-";

    // Swarm's own label on a task's container: the node that runs it.
    private const string SwarmNodeLabel = "com.docker.swarm.node.id";

    // Every resource ever shown, by name: the notification service refuses a second instance for one name.
    private readonly ConcurrentDictionary<string, SessionComputerResource> _resources = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, LiveComputer> _live = new(StringComparer.Ordinal);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await notifications.WaitForResourceHealthyAsync(api.Name, stoppingToken);
            var deployment = await ReadDeploymentAsync(stoppingToken);
            using var docker = new DockerClientConfiguration(new Uri(await EngineOfAsync(api, executionContext, logger, stoppingToken))).CreateClient();
            var logs = new SessionComputerLogs(loggers, name => _live.TryGetValue(name, out var live) ? (live.Engine, live.ContainerId) : null, logger);
            var following = logs.RunAsync(stoppingToken);
            if (await SettingOfAsync(api, executionContext, logger, DockerEngineSetting.ProviderVariable, stoppingToken) == DockerEngineSetting.SwarmProvider)
            {
                await WatchNodesAsync(docker, logs, deployment, stoppingToken);
            }
            else
            {
                await RetryAsync("The Docker engine's events stopped", async () => await WatchAsync(docker, logs, deployment, stoppingToken), stoppingToken);
            }
            await following;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    // Swarm: one engine watch per ready node with an engine address, started and stopped as the manager's node list changes.
    private async Task WatchNodesAsync(IDockerClient manager, SessionComputerLogs logs, string deployment, CancellationToken stoppingToken)
    {
        var watched = new Dictionary<string, (DockerClient Engine, CancellationTokenSource Stop, Task Watch)>(StringComparer.Ordinal);
        try
        {
            while (true)
            {
                IEnumerable<NodeListResponse>? nodes = null;
                try
                {
                    nodes = await manager.Swarm.ListNodesAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is DockerApiException or HttpRequestException or IOException or TimeoutException && !stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning("The Swarm's nodes could not be listed ({Reason}); trying again in {Delay}", ex.Message, NodePoll);
                }
                if (nodes is not null)
                {
                    var ready = nodes
                        .Where(n => n.Status?.State == "ready" && n.Spec?.Labels?.ContainsKey(ComputerLabels.NodeEngine) == true)
                        .Select(n => n.Spec.Labels[ComputerLabels.NodeEngine])
                        .ToHashSet(StringComparer.Ordinal);
                    foreach (var endpoint in watched.Keys.Where(e => !ready.Contains(e)).ToList())
                    {
                        var left = watched[endpoint];
                        watched.Remove(endpoint);
                        // A node that left: its computers leave the dashboard with it.
                        await StopWatchingAsync(left, hide: true);
                    }
                    foreach (var endpoint in ready.Where(e => !watched.ContainsKey(e)))
                    {
                        var engine = new DockerClientConfiguration(new Uri(endpoint)).CreateClient();
                        var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                        var watch = RetryAsync($"The events of the node engine {endpoint} stopped",
                            async () => await WatchAsync(engine, logs, deployment, stop.Token), stop.Token);
                        watched[endpoint] = (engine, stop, watch);
                    }
                }
                await Task.Delay(NodePoll, stoppingToken);
            }
        }
        finally
        {
            foreach (var node in watched.Values)
            {
                await StopWatchingAsync(node, hide: false);
            }
        }

        // Ends one node's watch and waits for it; with hide, also takes the node's computers off the dashboard.
        async Task StopWatchingAsync((DockerClient Engine, CancellationTokenSource Stop, Task Watch) node, bool hide)
        {
            await node.Stop.CancelAsync();
            await node.Watch.ContinueWith(_ => { }, TaskScheduler.Default);
            node.Stop.Dispose();
            if (hide)
            {
                foreach (var name in _live.Where(p => p.Value.Engine == node.Engine).Select(p => p.Key).ToList())
                {
                    await HideAsync(name, containerId: null);
                }
            }
            node.Engine.Dispose();
        }
    }

    /// <summary>
    /// The engine the API runs its computers on: <c>Computers__DockerEndpoint</c> as the API's environment has it (set by
    /// the AppHost from its own setting, or by whoever configured the resource), else the API's default, the local socket.
    /// With the Swarm provider it is the manager's.
    /// </summary>
    internal static async Task<string> EngineOfAsync(IResource api, DistributedApplicationExecutionContext executionContext, ILogger logger,
        CancellationToken cancellationToken) =>
        await SettingOfAsync(api, executionContext, logger, DockerEngineSetting.Variable, cancellationToken) ?? DockerEngineSetting.DefaultEndpoint;

    /// <summary>An environment variable of the API resource as it will be started, or null when it has none or an empty one.</summary>
    private static async Task<string?> SettingOfAsync(IResource api, DistributedApplicationExecutionContext executionContext, ILogger logger,
        string variable, CancellationToken cancellationToken)
    {
        var configuration = await ExecutionConfigurationBuilder.Create(api).WithEnvironmentVariablesConfig()
            .BuildAsync(executionContext, logger, cancellationToken);
        return configuration.EnvironmentVariables.FirstOrDefault(v => v.Key == variable).Value is { Length: > 0 } value ? value : null;
    }

    private async Task<string> ReadDeploymentAsync(CancellationToken cancellationToken)
    {
        string? id = null;
        await RetryAsync("The deployment id could not be read", async () =>
        {
            await using var connection = new NpgsqlConnection(await database.ConnectionStringExpression.GetValueAsync(cancellationToken));
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT id FROM deployment", connection);
            id = (string?)await command.ExecuteScalarAsync(cancellationToken);
            return id is null;
        }, cancellationToken);
        return id!;
    }

    // Runs attempt until it returns false; failures of the engine or the database are logged and retried with backoff.
    private async Task RetryAsync(string what, Func<Task<bool>> attempt, CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (true)
        {
            try
            {
                if (!await attempt())
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is DockerApiException or HttpRequestException or IOException or TimeoutException or NpgsqlException
                                       && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("{What} ({Reason}); trying again in {Delay}", what, ex.Message, backoff);
            }
            await Task.Delay(backoff, cancellationToken);
            backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
        }
    }

    // Subscribes first, then lists, so that no change between the two is missed; returns true when the stream ended.
    private async Task<bool> WatchAsync(IDockerClient docker, SessionComputerLogs logs, string deployment, CancellationToken cancellationToken)
    {
        var owned = new Dictionary<string, bool> { [$"{ComputerLabels.Deployment}={deployment}"] = true };
        var events = Channel.CreateUnbounded<Message>(new UnboundedChannelOptions { SingleReader = true });
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var monitor = docker.System.MonitorEventsAsync(
            new ContainerEventsParameters
            {
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["type"] = new Dictionary<string, bool> { ["container"] = true }, ["label"] = owned },
            },
            new ChannelProgress(events.Writer), watching.Token);
        _ = monitor.ContinueWith(task => events.Writer.TryComplete(task.Exception?.InnerException), TaskScheduler.Default);
        try
        {
            var listed = await docker.Containers.ListContainersAsync(
                new ContainersListParameters { All = true, Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = owned } }, cancellationToken);
            var present = new HashSet<string>(StringComparer.Ordinal);
            foreach (var container in listed.Where(c => !c.Labels.ContainsKey(ComputerLabels.Role)))
            {
                present.Add(container.ID);
                await RefreshAsync(docker, container.ID, cancellationToken);
            }
            foreach (var (name, live) in _live.Where(p => p.Value.Engine == docker && !present.Contains(p.Value.ContainerId)).ToList())
            {
                await HideAsync(name, live.ContainerId);
            }

            await foreach (var message in events.Reader.ReadAllAsync(cancellationToken))
            {
                var attributes = message.Actor?.Attributes ?? new Dictionary<string, string>();
                if (attributes.ContainsKey(ComputerLabels.Role) || message.Actor?.ID is not { } id)
                {
                    continue;
                }
                if (message.Action == "destroy" && attributes.TryGetValue("name", out var containerName))
                {
                    // Only the container the resource shows: a restored session's new computer may already be up elsewhere.
                    await HideAsync(NameOf(containerName, attributes), id);
                }
                else if (Refreshing.Contains(message.Action))
                {
                    var shown = await RefreshAsync(docker, id, cancellationToken);
                    if (message.Action is "start" or "restart" && shown is not null)
                    {
                        logs.Started(shown);
                    }
                }
            }
            return true;
        }
        finally
        {
            await watching.CancelAsync();
        }
    }

    /// <summary>
    /// The resource name of a computer: <c>raworc-session-&lt;session id&gt;</c> from its session label (on either provider,
    /// whatever the container is called: a Swarm task's container is <c>&lt;service&gt;.1.&lt;task id&gt;</c>, new at every
    /// restore), else the container's own name (a pooled computer before its claim).
    /// </summary>
    /// <param name="containerName">The container's name, with or without Docker's leading <c>/</c>.</param>
    /// <param name="labels">The container's labels.</param>
    internal static string NameOf(string containerName, IDictionary<string, string>? labels) =>
        labels is not null && labels.TryGetValue(ComputerLabels.Session, out var session) && Guid.TryParse(session, out var id)
            ? NamePrefix + id.ToString("D")
            : containerName.TrimStart('/');

    // Publishes the container's current state; returns its resource name, or null when it is gone (its destroy follows)
    // or older than the computer the resource shows (a late event of a restored session's previous container).
    private async Task<string?> RefreshAsync(IDockerClient docker, string id, CancellationToken cancellationToken)
    {
        ContainerInspectResponse container;
        try
        {
            container = await docker.Containers.InspectContainerAsync(id, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
            return null;
        }

        var name = NameOf(container.Name, container.Config.Labels);
        var shown = new LiveComputer(docker, container.ID, container.Created);
        var current = _live.AddOrUpdate(name, shown, (_, live) => live.ContainerId == container.ID || live.Created <= container.Created ? shown : live);
        if (current != shown)
        {
            return null;
        }
        var resource = _resources.GetOrAdd(name, key => new SessionComputerResource(key, api));
        var status = container.State?.Status ?? "unknown";
        var exited = status is "exited" or "dead";
        var stateStyle = status switch
        {
            "running" => KnownResourceStateStyles.Success,
            "exited" when container.State!.ExitCode == 0 => KnownResourceStateStyles.Info,
            "exited" or "dead" => KnownResourceStateStyles.Error,
            _ => KnownResourceStateStyles.Warn,
        };
        container.Config.Labels.TryGetValue(ComputerLabels.Session, out var sessionId);
        container.Config.Labels.TryGetValue(SwarmNodeLabel, out var nodeId);
        await notifications.PublishUpdateAsync(resource, name, snapshot => snapshot with
        {
            ResourceType = "Container",
            State = new ResourceStateSnapshot(StateText(status), stateStyle),
            CreationTimeStamp = container.Created.ToUniversalTime(),
            StartTimeStamp = Timestamp(container.State?.StartedAt),
            StopTimeStamp = exited ? Timestamp(container.State?.FinishedAt) : null,
            ExitCode = exited ? (int?)container.State!.ExitCode : null,
            IsHidden = false,
            Properties =
            [
                new("container.image", container.Config.Image),
                new("container.id", container.ID),
                new("container.name", container.Name.TrimStart('/')),
                new("container.runtime", container.HostConfig?.Runtime ?? ""),
                new(ComputerLabels.Session, sessionId ?? ""),
                new("swarm.node.id", nodeId ?? ""),
            ],
        });
        return name;
    }

    // Hides a computer whose container is gone: the one with containerId, or (null) whichever the resource shows.
    private async Task HideAsync(string name, string? containerId)
    {
        if (!_live.TryGetValue(name, out var live) || (containerId is not null && live.ContainerId != containerId)
            || !_live.TryRemove(KeyValuePair.Create(name, live)) || !_resources.TryGetValue(name, out var resource))
        {
            return;
        }
        await notifications.PublishUpdateAsync(resource, name, snapshot => snapshot with
        {
            State = new ResourceStateSnapshot(RemovedState, KnownResourceStateStyles.Info),
            StopTimeStamp = snapshot.StopTimeStamp ?? DateTime.UtcNow,
            IsHidden = true,
        });
    }

    private static string StateText(string dockerStatus) => dockerStatus switch
    {
        "created" => KnownResourceStates.Starting,
        "running" => KnownResourceStates.Running,
        "exited" or "dead" => KnownResourceStates.Exited,
        "removing" => KnownResourceStates.Stopping,
        _ => dockerStatus,
    };

    // The engine writes 0001-01-01T00:00:00Z for "never".
    private static DateTime? Timestamp(string? text) =>
        DateTime.TryParse(text, null, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var time) && time.Year > 1
            ? time
            : null;

    // The container a resource shows, on the engine that runs it (the one engine, or a Swarm node's).
    private sealed record LiveComputer(IDockerClient Engine, string ContainerId, DateTime Created);

    // Progress<T> would post each event to the thread pool, out of order; this keeps the engine's order.
    private sealed class ChannelProgress(ChannelWriter<Message> writer) : IProgress<Message>
    {
        public void Report(Message value) => writer.TryWrite(value);
    }
}
