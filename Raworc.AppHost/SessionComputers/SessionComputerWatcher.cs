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
/// </summary>
internal sealed class SessionComputerWatcher(IResource api, IResourceWithConnectionString database,
    DistributedApplicationExecutionContext executionContext, ResourceNotificationService notifications, ResourceLoggerService loggers,
    ILogger<SessionComputerWatcher> logger) : BackgroundService
{
    /// <summary>The state shown for a computer whose container is gone (the resource is hidden as well).</summary>
    public const string RemovedState = "Removed";

    private static readonly HashSet<string> Refreshing = ["create", "start", "restart", "die", "stop", "kill", "pause", "unpause", "oom"];
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    // Every resource ever shown, by container name: the notification service refuses a second instance for one name.
    private readonly ConcurrentDictionary<string, SessionComputerResource> _resources = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _live = new(StringComparer.Ordinal);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await notifications.WaitForResourceHealthyAsync(api.Name, stoppingToken);
            var deployment = await ReadDeploymentAsync(stoppingToken);
            using var docker = new DockerClientConfiguration(new Uri(await EngineOfAsync(api, executionContext, logger, stoppingToken))).CreateClient();
            var logs = new SessionComputerLogs(docker, loggers, name => _live.ContainsKey(name), logger);
            var following = logs.RunAsync(stoppingToken);
            await RetryAsync("The Docker engine's events stopped", async () => await WatchAsync(docker, logs, deployment, stoppingToken), stoppingToken);
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
                present.Add(container.Names.FirstOrDefault()?.TrimStart('/') ?? container.ID);
                await RefreshAsync(docker, container.ID, cancellationToken);
            }
            foreach (var gone in _live.Keys.Where(name => !present.Contains(name)).ToList())
            {
                await HideAsync(gone);
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
                    await HideAsync(name);
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

        var name = container.Name.TrimStart('/');
        var resource = _resources.GetOrAdd(name, key => new SessionComputerResource(key, api));
        _live[name] = container.ID;
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
            ],
        });
        return name;
    }

    private async Task HideAsync(string name)
    {
        if (!_live.TryRemove(name, out _) || !_resources.TryGetValue(name, out var resource))
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

    // Progress<T> would post each event to the thread pool, out of order; this keeps the engine's order.
    private sealed class ChannelProgress(ChannelWriter<Message> writer) : IProgress<Message>
    {
        public void Report(Message value) => writer.TryWrite(value);
    }
}
