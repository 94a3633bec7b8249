using System.Collections.Concurrent;
using System.Formats.Tar;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Options;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Session computers on a Docker engine (checked against engine 20.10, API 1.41): container and volume
/// both named <c>raworc-session-&lt;id&gt;</c>, labelled <c>raworc.managed=true</c> and
/// <c>raworc.session-id=&lt;id&gt;</c>, volume mounted at <c>/session</c>, CPU and memory limits from
/// <see cref="ComputerOptions"/>, Docker's init as PID 1 so a stop is prompt, and no Docker socket inside.
/// </summary>
/// <remarks>
/// The container receives these variables: every secret (NAME=value), then the caller's
/// <see cref="ComputerSpec.Environment"/> (which wins over a secret of the same name), then
/// <c>RAWORC_SESSION_ID</c> (the session id, "D" format) and <c>RAWORC_SETUP_TIMEOUT</c> (seconds); with a
/// <see cref="ComputerSpec.BootTicket"/>, <c>RAWORC_BOOT_TICKET</c> and, on a new volume, <c>RAWORC_SEED_VOLUME=true</c>.
/// Docker.DotNet's requests time out after 100 s by default; every call takes the caller's token.
/// </remarks>
public sealed partial class DockerComputerProvider(
    IDockerClient docker, IOptions<ComputerOptions> options, ComputerNetwork network, ILogger<DockerComputerProvider> logger) : IComputerProvider
{
    /// <summary>Label set to <c>true</c> on every container and volume this platform creates.</summary>
    public const string ManagedLabel = ComputerLabels.Managed;

    /// <summary>
    /// Label naming the Raworc deployment (<see cref="ComputerOptions.Deployment"/>) that owns a container or volume,
    /// so two deployments sharing one engine (a development run beside a test run) never touch each other's computers.
    /// </summary>
    public const string DeploymentLabel = ComputerLabels.Deployment;

    /// <summary>Label holding the session id ("D" format) of a container or volume.</summary>
    public const string SessionLabel = ComputerLabels.Session;

    /// <summary>Label marking short-lived helper containers (value <c>copy</c>); session computers have none.</summary>
    public const string RoleLabel = ComputerLabels.Role;

    /// <summary>Label (value <c>ext4</c>) on a session volume that is a filesystem of its own (<see cref="VolumeFileSystems"/>).</summary>
    public const string FileSystemLabel = ComputerLabels.FileSystem;

    /// <summary>Where the volume is mounted in the computer.</summary>
    public const string SessionPath = "/session";

    /// <summary>The most bytes <see cref="ReadFileAsync"/> returns of a file (64 KiB); the rest is ignored.</summary>
    public const int MaxReadBytes = 64 * 1024;

    private readonly VolumeFileSystems _fileSystems = new(options, logger);

    /// <summary>Seconds a stopping computer gets between SIGTERM and SIGKILL.</summary>
    private const uint StopGraceSeconds = 10;

    /// <summary>How long <see cref="IsReachableAsync"/> waits for the engine's answer.</summary>
    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The name of a session's container and of its volume.</summary>
    /// <param name="sessionId">The session.</param>
    /// <returns><c>raworc-session-&lt;id&gt;</c>, the id in "D" format (lower-case, with hyphens).</returns>
    public static string NameOf(Guid sessionId) => $"raworc-session-{sessionId:D}";

    /// <inheritdoc />
    public Task<ComputerHandle> CreateAsync(ComputerSpec spec, CancellationToken cancellationToken) => CreateAsync(spec, null, cancellationToken);

    /// <inheritdoc />
    public bool BootsWithTicket => true;

    /// <inheritdoc />
    public async Task<ComputerHandle> CreateAsync(ComputerSpec spec, Func<ComputerHandle, CancellationToken, Task>? beforeStart,
        CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var env = BuildEnvironment(spec, settings);
        var name = NameOf(spec.SessionId);
        var image = spec.Desktop ? settings.DesktopImage : settings.Image;
        var hostConfig = HardenedHostConfig(name, settings);
        if (spec.Desktop)
        {
            hostConfig.Memory = hostConfig.MemorySwap = Math.Max(settings.DesktopMemoryMiB, settings.MemoryMiB) * 1024L * 1024L;
        }

        await EnsureImageAsync(image, cancellationToken);
        await network.EnsureAsync(cancellationToken);
        // A computer that exited (killed, crashed) still holds the name; restore replaces it.
        await RemoveContainerAsync(name, cancellationToken);
        var isNewVolume = await EnsureVolumeAsync(spec.SessionId, cancellationToken);
        // Not under gVisor: a sandbox started without a network and attached after resolved no name (Docker's DNS at
        // 127.0.0.11 is set up in the namespace at the attach, which the sandbox's own network stack does not see).
        var attachAfterStart = settings.AttachNetworkAfterStart && settings.Egress != ComputerEgress.None && settings.Runtime != "runsc";
        if (attachAfterStart)
        {
            env.Add($"{HostAgentVariables.NetworkPending}=true");
        }
        if (spec.BootTicket is { } ticket)
        {
            // Nothing is written into the container: the agent exchanges the ticket for the Host token and the seed files.
            env.Add($"{HostAgentVariables.BootTicket}={ticket}");
            if (isNewVolume || spec.SeedExistingVolume)
            {
                env.Add($"{HostAgentVariables.SeedVolume}=true");
            }
        }
        try
        {
            var created = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Name = name,
                Image = image,
                User = ContainerUser,
                Env = env,
                Labels = spec.PoolToken is null ? Labels(spec.SessionId) : PooledLabels(spec.SessionId),
                HostConfig = hostConfig,
            }, cancellationToken);

            if (spec.BootTicket is null)
            {
                // Written through the created, not yet started container, so the files are in place before the agent looks
                // for its token and setup.sh. The engine's archive write costs it ~100 ms of CPU: a cold start with a boot
                // ticket skips it (a new volume gets the folders from the image, the rest comes with the exchange).
                using var archive = isNewVolume ? SessionArchive.Seed(spec) : SessionArchive.Layout(spec.HostToken);
                await docker.Containers.ExtractArchiveToContainerAsync(
                    created.ID, new ContainerPathStatParameters { Path = SessionPath }, archive, cancellationToken);
            }
            var handle = new ComputerHandle(created.ID, name);
            if (beforeStart is not null)
            {
                await beforeStart(handle, cancellationToken);
            }
            if (attachAfterStart)
            {
                // Created on the network (so its settings are the container's) but started without it: Docker's endpoint
                // set-up on a user-defined network (~0.2 s, its embedded DNS) then runs beside the agent's start instead of
                // before it. The agent talks to the API over its socket, and holds the session's code until the route is there.
                await docker.Networks.DisconnectNetworkAsync(settings.Network,
                    new NetworkDisconnectParameters { Container = created.ID, Force = true }, cancellationToken);
            }
            await docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), cancellationToken);
            await LimitTcpMemoryAsync(spec.SessionId, created.ID, cancellationToken);

            LogStarted(spec.SessionId, created.ID, isNewVolume);
            if (attachAfterStart)
            {
                var attach = AttachInBackgroundAsync(spec.SessionId, created.ID);
                _attaching[created.ID] = attach;
                _ = attach.ContinueWith(_ => _attaching.TryRemove(created.ID, out var _), CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            return handle;
        }
        catch (Exception exception)
        {
            // Best effort, whatever the caller's token says: a half-made computer must not linger,
            // and a new volume that was never seeded would later pass for a seeded one.
            await RemoveContainerAsync(name, CancellationToken.None);
            if (isNewVolume)
            {
                await RemoveVolumeAsync(name, CancellationToken.None);
            }
            if (exception is DockerImageNotFoundException)
            {
                throw new ComputerImageNotFoundException(image);
            }
            if (IsUnknownRuntime(exception, settings.Runtime))
            {
                throw new ComputerRuntimeNotFoundException(settings.Runtime);
            }
            throw;
        }
    }

    // Attaches after a start still under way, by container id: the reconciler's attach of such a computer waits for it.
    private readonly ConcurrentDictionary<string, Task> _attaching = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public async Task AttachNetworkAsync(ComputerInfo computer, CancellationToken cancellationToken)
    {
        if (_attaching.TryGetValue(computer.ContainerId, out var underWay))
        {
            await underWay.WaitAsync(cancellationToken);
            return;
        }
        var network = options.Value.Network;
        try
        {
            await docker.Networks.ConnectNetworkAsync(network, new NetworkConnectParameters { Container = computer.ContainerId }, cancellationToken);
            LogNetworkAttached(computer.SessionId, network);
        }
        catch (DockerApiException)
        {
            // Fine when the other attach (the create's, or the reconciler's) came first.
            if (!await IsAttachedAsync(computer.ContainerId, network, cancellationToken))
            {
                throw;
            }
        }
    }

    // The create's attach, after the start: not awaited by the create, so its failure is logged here; the reconciler
    // attaches a running computer it finds without its network (this one too, if the API stopped in between).
    private async Task AttachInBackgroundAsync(Guid sessionId, string containerId)
    {
        try
        {
            await AttachNetworkAsync(new ComputerInfo(sessionId, containerId, ComputerState.Running, null), CancellationToken.None);
        }
        catch (Exception exception)
        {
            LogAttachFailed(sessionId, FailureText.DescribeForLog(exception));
        }
    }

    private async Task<bool> IsAttachedAsync(string containerId, string network, CancellationToken cancellationToken)
    {
        try
        {
            var inspected = await docker.Containers.InspectContainerAsync(containerId, cancellationToken);
            return inspected.NetworkSettings?.Networks?.ContainsKey(network) == true;
        }
        catch (DockerContainerNotFoundException)
        {
            // Removed meanwhile: nothing left to attach.
            return true;
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var name = NameOf(sessionId);
        try
        {
            // A graceful stop first, so the agent can say goodbye; Docker's init forwards SIGTERM.
            await docker.Containers.StopContainerAsync(
                name, new ContainerStopParameters { WaitBeforeKillSeconds = StopGraceSeconds }, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
            return;
        }
        await RemoveContainerAsync(name, cancellationToken);
        LogStopped(sessionId);
    }

    /// <inheritdoc />
    public Task RemoveComputerAsync(ComputerInfo computer, CancellationToken cancellationToken) =>
        RemoveContainerAsync(computer.ContainerId, cancellationToken);

    /// <inheritdoc />
    public async Task DeleteAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var name = NameOf(sessionId);
        // Helpers hold the volume too: a copy into it (labelled with this session) and a remix's copy out of it (labelled
        // with the child, found by the volume it mounts). Removing the latter cancels that remix, whose child errors.
        var holders = (await ListLabelledAsync($"{SessionLabel}={sessionId:D}", cancellationToken))
            .Concat(await ListMountingAsync(name, cancellationToken))
            .Select(container => container.ID).Distinct();
        foreach (var container in holders)
        {
            await RemoveContainerAsync(container, cancellationToken);
        }
        await RemoveContainerAsync(name, cancellationToken);
        await RemoveVolumeAsync(name, cancellationToken);
        LogDeleted(sessionId);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ComputerInfo>> ListAsync(CancellationToken cancellationToken)
    {
        var computers = new List<ComputerInfo>();
        var owned = options.Value.Deployment is { Length: > 0 } deployment ? $"{DeploymentLabel}={deployment}" : $"{ManagedLabel}=true";
        foreach (var container in await ListLabelledAsync(owned, cancellationToken))
        {
            if (container.Labels.ContainsKey(RoleLabel)
                || !container.Labels.TryGetValue(SessionLabel, out var label)
                || !Guid.TryParse(label, out var sessionId))
            {
                continue;
            }
            var state = container.State switch
            {
                "created" => ComputerState.Created,
                "exited" or "dead" => ComputerState.Exited,
                _ => ComputerState.Running,
            };
            int? exitCode = null;
            var outOfMemory = false;
            if (state is ComputerState.Exited)
            {
                // The list gives the exit code only inside a human-readable status; inspect gives it exactly.
                try
                {
                    var inspected = await docker.Containers.InspectContainerAsync(container.ID, cancellationToken);
                    exitCode = (int)inspected.State.ExitCode;
                    outOfMemory = inspected.State.OOMKilled;
                }
                catch (DockerContainerNotFoundException)
                {
                    continue;
                }
            }
            // Running without the computers' network: its attach after the start is still under way, failed, or was lost
            // with an API that stopped in between.
            var detached = state is ComputerState.Running && options.Value.Egress != ComputerEgress.None
                && container.NetworkSettings?.Networks?.ContainsKey(options.Value.Network) != true;
            computers.Add(new ComputerInfo(sessionId, container.ID, state, exitCode, container.ImageID, outOfMemory, detached));
        }
        return computers;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Guid>> ListVolumesAsync(CancellationToken cancellationToken)
    {
        var owned = options.Value.Deployment is { Length: > 0 } deployment ? $"{DeploymentLabel}={deployment}" : $"{ManagedLabel}=true";
        var listed = await docker.Volumes.ListAsync(new VolumesListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [owned] = true } },
        }, cancellationToken);
        return (listed.Volumes ?? [])
            .Select(volume => volume.Labels is { } labels && labels.TryGetValue(SessionLabel, out var label) && Guid.TryParse(label, out var id) ? id : Guid.Empty)
            .Where(id => id != Guid.Empty)
            .Distinct()
            .ToList();
    }

    /// <inheritdoc />
    public Task<string?> ReadFileAsync(Guid sessionId, string path, CancellationToken cancellationToken) =>
        ReadContainerFileAsync(docker, NameOf(sessionId), path, cancellationToken);

    /// <summary>What <see cref="ReadFileAsync"/> does, for any container of any engine (the Swarm provider's nodes too).</summary>
    internal static async Task<string?> ReadContainerFileAsync(IDockerClient docker, string container, string path, CancellationToken cancellationToken)
    {
        try
        {
            var archive = await docker.Containers.GetArchiveFromContainerAsync(
                container, new GetArchiveFromContainerParameters { Path = path }, statOnly: false, cancellationToken);
            await using var stream = archive.Stream;
            using var tar = new TarReader(stream);
            // Not copied: copyData would buffer the whole entry (a sparse file of terabytes, say) before the cap below.
            var entry = await tar.GetNextEntryAsync(copyData: false, cancellationToken);
            if (entry is not { EntryType: TarEntryType.RegularFile or TarEntryType.V7RegularFile, DataStream: not null })
            {
                return null;
            }
            // The file comes from the session's code: read at most MaxReadBytes of it; the rest is never read.
            var buffer = new byte[MaxReadBytes];
            var length = 0;
            for (int read; length < buffer.Length && (read = await entry.DataStream.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0;)
            {
                length += read;
            }
            return System.Text.Encoding.UTF8.GetString(buffer, 0, length);
        }
        catch (DockerContainerNotFoundException)
        {
            return null;
        }
        catch (DockerApiException exception) when (exception.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task<string?> ImageIdAsync(CancellationToken cancellationToken)
    {
        try
        {
            return (await docker.Images.InspectImageAsync(options.Value.Image, cancellationToken)).ID;
        }
        catch (DockerImageNotFoundException)
        {
            return null;
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
        timeout.CancelAfter(PingTimeout);
        try
        {
            await docker.System.PingAsync(timeout.Token);
            return true;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LogUnreachable(FailureText.DescribeForLog(exception));
            return false;
        }
    }

    internal static List<string> BuildEnvironment(ComputerSpec spec, ComputerOptions settings)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in spec.Secrets)
        {
            variables[CheckName(name, "secret")] = value;
        }
        foreach (var (name, value) in spec.Environment)
        {
            variables[CheckName(name, "environment variable")] = value;
        }
        variables[HostAgentVariables.SessionId] = spec.SessionId.ToString("D");
        // No diagnostic IPC socket in /tmp: through it the tools (same user) could read the agent's environment or load
        // code into it (found by a break-out attempt), which non-dumpability does not stop.
        variables["DOTNET_EnableDiagnostics"] = "0";
        if (settings.Runtime == "runsc")
        {
            // Under gVisor nproc is the process limit; the agent's tools and setup.sh get less, so the agent keeps room.
            variables[HostAgentVariables.ToolProcessLimit] = Math.Max(1, settings.PidsLimit - AgentProcessReserve).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (spec.PoolToken is not null)
        {
            variables[HostAgentVariables.PoolTokenFile] = $"{SessionPath}/{ComputerSpec.PoolTokenPath}";
        }
        if (spec.HostToken is not null)
        {
            variables[HostAgentVariables.HostTokenFile] = $"{SessionPath}/{ComputerSpec.HostTokenPath}";
        }
        if (settings.UsesHostSocket)
        {
            variables[HostAgentVariables.ApiSocket] = $"{ComputerSocket.MountPath}/{ComputerSocket.FileName}";
        }
        variables[HostAgentVariables.SetupTimeout] = settings.SetupTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (spec.Desktop)
        {
            variables[HostAgentVariables.DesktopSize] = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{settings.DesktopWidth}x{settings.DesktopHeight}");
            variables[HostAgentVariables.Display] = $":{HostAgentVariables.DisplayNumber}";
        }
        return [.. variables.Select(pair => $"{pair.Key}={pair.Value}")];
    }

    // A secret's name is also a file name under /session/secrets, so it must be a plain identifier.
    private static string CheckName(string name, string kind) => VariableName().IsMatch(name)
        ? name
        : throw new ArgumentException($"The {kind} name '{name}' is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*).", nameof(ComputerSpec));

    private Dictionary<string, string> Labels(Guid sessionId)
    {
        var labels = new Dictionary<string, string> { [ManagedLabel] = "true", [SessionLabel] = sessionId.ToString("D") };
        if (options.Value.Deployment is { Length: > 0 } deployment)
        {
            labels[DeploymentLabel] = deployment;
        }
        return labels;
    }

    /// <summary>
    /// Label <c>raworc.pooled=true</c>: the container was started by the warm pool, before its session existed. Whether it
    /// has been claimed is the database's to say (table <c>warm_computers</c>), never the label's, which cannot change.
    /// </summary>
    public const string PooledLabel = "raworc.pooled";

    private Dictionary<string, string> PooledLabels(Guid sessionId)
    {
        var labels = Labels(sessionId);
        labels[PooledLabel] = "true";
        return labels;
    }

    [GeneratedRegex(@"\A[A-Za-z_][A-Za-z0-9_]*\z")]
    private static partial Regex VariableName();
}
