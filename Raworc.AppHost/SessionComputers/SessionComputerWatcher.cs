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
/// out): state, image, container id, runtime, session id, created/started/stopped times and exit code. A computer that
/// is removed is hidden (state <c>Removed</c>); one that comes back under the same name (a restored session) shows
/// again. A dropped event stream is re-opened with a backoff of 1 s doubling to 30 s, after a fresh listing.
/// With the Swarm provider (the API's <c>Computers__Provider=swarm</c>) that engine is the manager: every ready node's
/// engine (its <c>raworc.engine</c> label) is watched the same way, nodes that join or come back within
/// <see cref="NodeListInterval"/>; a computer is named after its service (<c>raworc-session-&lt;id&gt;</c>, not its task
/// container's <c>raworc-session-&lt;id&gt;.1.&lt;task&gt;</c>), shows its node (<c>swarm.node.id</c>), and is hidden only
/// once its containers are gone from every node.
/// </summary>
internal sealed class SessionComputerWatcher(IResource api, IResourceWithConnectionString database,
    DistributedApplicationExecutionContext executionContext, ResourceNotificationService notifications, ResourceLoggerService loggers,
    ILogger<SessionComputerWatcher> logger) : BackgroundService
{
    /// <summary>The state shown for a computer whose container is gone (the resource is hidden as well).</summary>
    public const string RemovedState = "Removed";

    private static readonly HashSet<string> Refreshing = ["create", "start", "restart", "die", "stop", "kill", "pause", "unpause", "oom"];
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>How often the Swarm manager's node list is read for node engines not watched yet.</summary>
    public static readonly TimeSpan NodeListInterval = TimeSpan.FromSeconds(5);

    // Swarm's labels on a task's container: its service's name, and the node it runs on.
    private const string ServiceNameLabel = "com.docker.swarm.service.name";
    private const string NodeIdLabel = "com.docker.swarm.node.id";

    // Every resource ever shown, by name: the notification service refuses a second instance for one name.
    private readonly ConcurrentDictionary<string, SessionComputerResource> _resources = new(StringComparer.Ordinal);

    // The containers each shown resource has now, by container id, on whichever engine (one on Docker; on Swarm also
    // an older task's, exited, until Swarm removes it).
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, LiveContainer>> _live = new(StringComparer.Ordinal);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await notifications.WaitForResourceHealthyAsync(api.Name, stoppingToken);
            var deployment = await ReadDeploymentAsync(stoppingToken);
            var endpoint = await EngineOfAsync(api, executionContext, logger, stoppingToken);
            using var docker = new DockerClientConfiguration(new Uri(endpoint)).CreateClient();
            var logs = new SessionComputerLogs(loggers, Locate, logger);
            var following = logs.RunAsync(stoppingToken);
            if (await ProviderOfAsync(api, executionContext, logger, stoppingToken) == DockerEngineSetting.SwarmProvider)
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

    /// <summary>
    /// The engine the API runs its computers on: <c>Computers__DockerEndpoint</c> as the API's environment has it (set by
    /// the AppHost from its own setting, or by whoever configured the resource), else the API's default, the local socket.
    /// </summary>
    internal static async Task<string> EngineOfAsync(IResource api, DistributedApplicationExecutionContext executionContext, ILogger logger,
        CancellationToken cancellationToken)
    {
        var configuration = await ExecutionConfigurationBuilder.Create(api).WithEnvironmentVariablesConfig()
            .BuildAsync(executionContext, logger, cancellationToken);
        return configuration.EnvironmentVariables.FirstOrDefault(v => v.Key == DockerEngineSetting.Variable).Value is { Length: > 0 } engine
            ? engine
            : DockerEngineSetting.DefaultEndpoint;
    }

    /// <summary>The API's <c>Computers__Provider</c>, lower case, or <c>docker</c> when it has none.</summary>
    private static async Task<string> ProviderOfAsync(IResource api, DistributedApplicationExecutionContext executionContext, ILogger logger,
        CancellationToken cancellationToken)
    {
        var configuration = await ExecutionConfigurationBuilder.Create(api).WithEnvironmentVariablesConfig()
            .BuildAsync(executionContext, logger, cancellationToken);
        return configuration.EnvironmentVariables.FirstOrDefault(v => v.Key == DockerEngineSetting.ProviderVariable).Value is { Length: > 0 } provider
            ? provider.ToLowerInvariant()
            : "docker";
    }

    // Watches each ready node's engine (from the manager's node list, read again every NodeListInterval), each with its
    // own retries: a node that leaves keeps its computers shown until its engine answers again.
    private async Task WatchNodesAsync(IDockerClient manager, SessionComputerLogs logs, string deployment, CancellationToken cancellationToken)
    {
        var engines = new Dictionary<string, DockerClient>(StringComparer.Ordinal);
        var watches = new List<Task>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    foreach (var node in await manager.Swarm.ListNodesAsync(cancellationToken))
                    {
                        if (node.Status?.State == "ready" && node.Spec?.Labels?.TryGetValue(DockerEngineSetting.NodeEngineLabel, out var endpoint) == true
                            && !engines.ContainsKey(endpoint))
                        {
                            var engine = new DockerClientConfiguration(new Uri(endpoint)).CreateClient();
                            engines[endpoint] = engine;
                            watches.Add(RetryAsync($"The events of the node engine {endpoint} stopped",
                                async () => await WatchAsync(engine, logs, deployment, cancellationToken), cancellationToken));
                        }
                    }
                }
                catch (Exception ex) when (ex is DockerApiException or HttpRequestException or IOException or TimeoutException
                                           && !cancellationToken.IsCancellationRequested)
                {
                    logger.LogWarning("The Swarm manager's nodes could not be listed ({Reason}); trying again in {Delay}", ex.Message, NodeListInterval);
                }
                await Task.Delay(NodeListInterval, cancellationToken);
            }
        }
        finally
        {
            try
            {
                await Task.WhenAll(watches);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            foreach (var engine in engines.Values)
            {
                engine.Dispose();
            }
        }
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
            // A task's running container last, so that its state is the one shown when an older one exited beside it.
            foreach (var container in listed.Where(c => !c.Labels.ContainsKey(ComputerLabels.Role)).OrderBy(c => c.State == "running"))
            {
                present.Add(container.ID);
                await RefreshAsync(docker, container.ID, cancellationToken);
            }
            foreach (var (name, containers) in _live)
            {
                foreach (var gone in containers.Where(c => c.Value.Engine == docker && !present.Contains(c.Key)).Select(c => c.Key).ToList())
                {
                    await ForgetAsync(name, gone);
                }
            }

            await foreach (var message in events.Reader.ReadAllAsync(cancellationToken))
            {
                var attributes = message.Actor?.Attributes ?? new Dictionary<string, string>();
                if (attributes.ContainsKey(ComputerLabels.Role) || message.Actor?.ID is not { } id)
                {
                    continue;
                }
                if (message.Action == "destroy" && attributes.TryGetValue("name", out var name))
                {
                    await ForgetAsync(attributes.TryGetValue(ServiceNameLabel, out var service) ? service : name, id);
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

    // Publishes the container's current state; returns its name, or null when it is already gone (its destroy follows).
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

        var labels = container.Config.Labels ?? new Dictionary<string, string>();
        var name = labels.TryGetValue(ServiceNameLabel, out var service) ? service : container.Name.TrimStart('/');
        var resource = _resources.GetOrAdd(name, key => new SessionComputerResource(key, api));
        var status = container.State?.Status ?? "unknown";
        bool another;
        lock (_live)
        {
            var containers = _live.GetOrAdd(name, _ => new ConcurrentDictionary<string, LiveContainer>(StringComparer.Ordinal));
            containers[container.ID] = new LiveContainer(docker, status == "running");
            another = containers.Any(c => c.Key != container.ID && c.Value.Running);
        }
        // An older task's container that stops or exits beside a running one is not what the computer is now.
        if (status != "running" && another)
        {
            return name;
        }
        var exited = status is "exited" or "dead";
        var stateStyle = status switch
        {
            "running" => KnownResourceStateStyles.Success,
            "exited" when container.State!.ExitCode == 0 => KnownResourceStateStyles.Info,
            "exited" or "dead" => KnownResourceStateStyles.Error,
            _ => KnownResourceStateStyles.Warn,
        };
        labels.TryGetValue(ComputerLabels.Session, out var sessionId);
        IEnumerable<ResourcePropertySnapshot> node = labels.TryGetValue(NodeIdLabel, out var nodeId) ? [new("swarm.node.id", nodeId)] : [];
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
                new("container.runtime", container.HostConfig?.Runtime ?? ""),
                new(ComputerLabels.Session, sessionId ?? ""),
                .. node,
            ],
        });
        return name;
    }

    // The resource's container with this id is gone; the resource is hidden when it was its last.
    private async Task ForgetAsync(string name, string containerId)
    {
        lock (_live)
        {
            if (!_live.TryGetValue(name, out var containers) || !containers.TryRemove(containerId, out _) || !containers.IsEmpty)
            {
                return;
            }
            _live.TryRemove(name, out _);
        }
        if (!_resources.TryGetValue(name, out var resource))
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

    // Where a shown computer's console is read: its running container, else any of its containers; null when none.
    private (IDockerClient Engine, string ContainerId)? Locate(string name)
    {
        lock (_live)
        {
            if (!_live.TryGetValue(name, out var containers) || containers.IsEmpty)
            {
                return null;
            }
            var found = containers.OrderByDescending(c => c.Value.Running).First();
            return (found.Value.Engine, found.Key);
        }
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

    // A container of a shown computer: the engine that holds it, and whether it ran when last inspected.
    private sealed record LiveContainer(IDockerClient Engine, bool Running);

    // Progress<T> would post each event to the thread pool, out of order; this keeps the engine's order.
    private sealed class ChannelProgress(ChannelWriter<Message> writer) : IProgress<Message>
    {
        public void Report(Message value) => writer.TryWrite(value);
    }
}
