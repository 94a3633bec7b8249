using Docker.DotNet;
using Docker.DotNet.Models;
using Raworc.ApiService.Computers;
using Raworc.Tests.HostAgent;

namespace Raworc.Tests.Infrastructure;

/// <summary>
/// The whole system with session computers: real containers of the real Host agent image, whose agents talk to
/// the stand-in model server (OpenAI protocol) on loopback. Each test gives its sessions their own
/// <c>OPENAI_API_KEY</c> secret and scripts the stand-in for that key. Computers run under <see cref="TestRuntime.Name"/>,
/// on the provider <see cref="TestProvider.Name"/>: on the main engine, or on <c>eng/swarm-cluster.sh</c>'s test cluster
/// (<see cref="OnSwarm"/>), which is brought up before the AppHost starts and left running for the next run.
/// </summary>
public partial class ComputersAppFixture : RaworcAppFixture
{
    /// <summary>The image <c>eng/host-agent-image.sh</c> built: <c>RAWORC_AGENT_IMAGE</c>, as for the script, or <c>raworc/host-agent:latest</c>.</summary>
    public static string SourceImage { get; } = Environment.GetEnvironmentVariable("RAWORC_AGENT_IMAGE") is { Length: > 0 } image ? image : "raworc/host-agent:latest";

    /// <summary>
    /// The image the API starts, tagged from <see cref="SourceImage"/> so a test can make it disappear: <c>raworc/host-agent:tests</c>,
    /// or <c>…:tests-runsc</c> under gVisor, because <c>eng/test.sh</c> runs the gVisor pass beside the plain pass's
    /// computers and a test of either that untags its image must not take the other's away.
    /// </summary>
    /// <remarks>Declared after <see cref="SourceImage"/>, which it is made from.</remarks>
    public static string Image { get; } = $"{SourceImage}-tests{(TestRuntime.Name == "runsc" ? "-runsc" : "")}"
        .Replace(":latest-tests", ":tests", StringComparison.Ordinal);

    /// <summary>
    /// The image of desktop computers, which <c>eng/host-agent-desktop-image.sh</c> built: <c>RAWORC_DESKTOP_IMAGE</c>, as for
    /// the script, or <c>raworc/host-agent-desktop:latest</c>.
    /// </summary>
    public static string DesktopImage { get; } = Environment.GetEnvironmentVariable("RAWORC_DESKTOP_IMAGE") is { Length: > 0 } desktop
        ? desktop : "raworc/host-agent-desktop:latest";

    /// <summary>Most disk a session's volume may take in these tests, MiB.</summary>
    public const int MaxVolumeMiB = 64;

    /// <summary>Most inodes a session's volume may hold in these tests.</summary>
    public const int MaxVolumeInodes = 10_000;

    /// <summary>
    /// <c>Sessions:MaxDiskMiBPerOperator</c> here: past what any other test's owner holds in volume filesystems (each test
    /// makes its own operator; the most one writes is one volume's limit, 64 MiB).
    /// </summary>
    public const int MaxDiskMiBPerOperator = 80;

    /// <summary>
    /// <c>Computers:MaxTcpMemoryMiB</c> here, half the default: past the bound of 64 MiB and what any other test's computer
    /// queues, and reached with fewer connections than the default's.
    /// </summary>
    public const int MaxTcpMemoryMiB = 128;

    /// <summary><c>Computers:MaxTrackedConnections</c> here: a third of the default, reached with fewer exchanges.</summary>
    public const int MaxTrackedConnections = 20_000;

    /// <summary>
    /// Setup time limit the API runs with, seconds: 8, or 15 under gVisor. Short, for the test that waits a hanging script
    /// out, but not too short for the scripts of other tests: in a CI run at load 43 a three-line script of
    /// <c>tr</c>, <c>sed</c> and <c>curl</c> under gVisor was cut off at 3 s before its <c>curl</c> wrote a byte.
    /// </summary>
    public static readonly int SetupTimeoutSeconds = TestRuntime.Name == "runsc" ? 15 : 8;

    /// <summary>
    /// How long the API of this shared system waits for an agent to report ready, seconds: 45, or 90 under gVisor, where a
    /// desktop computer's start alone takes 6 s on an idle 2-core machine (0.8 s under runc: every file Openbox opens goes
    /// through gVisor's gofer), and a CI run's parallel load once took one past 45 s.
    /// </summary>
    public static readonly int StartDeadlineSeconds = TestRuntime.Name == "runsc" ? 90 : 45;

    /// <summary>This system's <c>Computers:StartDeadlineSeconds</c>: <see cref="StartDeadlineSeconds"/> unless a derived fixture says otherwise.</summary>
    protected virtual int StartDeadline => StartDeadlineSeconds;

    private StandInModelServer? _model;
    private OtlpTraceReceiver? _traces;

    /// <summary>The stand-in model provider.</summary>
    public StandInModelServer Model => _model ?? throw new InvalidOperationException("Not started.");

    /// <summary>The spans the API exported (it sends them here over OTLP, as it would to the Aspire dashboard).</summary>
    public OtlpTraceReceiver Traces => _traces ?? throw new InvalidOperationException("Not started.");

    /// <summary>
    /// A client of the main engine (the Docker provider's; on Swarm the API's machine, which holds the images the cluster's
    /// nodes are loaded from). The session's container on either provider: <see cref="ContainerAsync"/>.
    /// </summary>
    public DockerClient Docker { get; } = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();

    /// <summary>Looks at sessions' containers and volumes on whichever engine holds them (either provider).</summary>
    public SessionProbe Probe => new(this);

    protected override bool Computers => true;

    protected override IEnumerable<string> ExtraArguments => [$"--Raworc:HostAgentImage={Image}", $"--Raworc:HostAgentDesktopImage={DesktopImage}"];

    protected override IReadOnlyDictionary<string, string> ApiEnvironment => new Dictionary<string, string>(ProviderEnvironment)
    {
        ["Computers__SetupTimeoutSeconds"] = SetupTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Computers__StartDeadlineSeconds"] = StartDeadline.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Computers__MaxVolumeMiB"] = MaxVolumeMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Computers__MaxVolumeInodes"] = MaxVolumeInodes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Sessions__MaxDiskMiBPerOperator"] = MaxDiskMiBPerOperator.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Computers__MaxTcpMemoryMiB"] = MaxTcpMemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Computers__MaxTrackedConnections"] = MaxTrackedConnections.ToString(System.Globalization.CultureInfo.InvariantCulture),
        // Each measurement walks every container and volume of the engine (GET /system/df): not too often.
        ["Computers__VolumeCheckSeconds"] = "5",
        ["Computers__Runtime"] = TestRuntime.Name,
        // Today's path, one computer started per session: these tests look at what a create makes (WarmPoolAppFixture has a pool).
        ["Computers__WarmPool"] = "0",
        ["Models__Provider"] = "openai",
        ["Models__Model"] = "stand-in-model",
        ["Models__BaseUrl"] = Model.OpenAIBaseUrl.ToString(),
        ["Models__OpenAiApiKey"] = "platform-key",
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Traces.Endpoint.ToString(),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        // Spans leave in batches; a short delay lets a test see a trace soon after it ends.
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        // The default queue (2048 spans) drops what a burst brings beyond it; a test looking for one span must not lose it.
        ["OTEL_BSP_MAX_QUEUE_SIZE"] = "65536",
        // Log records too (ExportedLogHygieneTests reads them).
        ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
    };

    protected override async Task BeforeStartAsync()
    {
        _model = await StandInModelServer.StartAsync();
        _traces = await OtlpTraceReceiver.StartAsync();
        await TagImageAsync();
        if (OnSwarm)
        {
            await StartClusterAsync();
        }
    }

    /// <summary>A fresh model key: given to a session as its <c>OPENAI_API_KEY</c> secret, it selects that session's stand-in script.</summary>
    public static string NewModelKey() => $"key-{Guid.NewGuid():N}";

    /// <summary>
    /// Runs a command in the session's computer as the user <c>raworc</c>, at once (a computer whose network is still to be
    /// attached runs it without; <see cref="RunInsideAsync"/> waits); returns stdout.
    /// </summary>
    public async Task<string> ExecAsync(Guid sessionId, params string[] command)
    {
        var (engine, container) = await RequireContainerAsync(sessionId);
        return (await ExecInContainerAsync(engine, container.ID, command, TimeSpan.FromSeconds(30))).Stdout;
    }

    /// <summary>
    /// Runs <c>bash -c <paramref name="script"/></c> in the session's computer as the user <c>raworc</c> — the user the
    /// Host's tools run as — and returns its exit code and output. What it can do, the session's code can do. Like the
    /// Host's tools it waits until the computer's network is attached (the single engine attaches it right after the
    /// start, and an idle session's computer may not have it yet).
    /// </summary>
    public async Task<(long ExitCode, string Stdout, string Stderr)> RunInsideAsync(Guid sessionId, string script, TimeSpan? timeout = null)
    {
        var (engine, container) = await RequireContainerAsync(sessionId);
        await Waits.UntilAsync(async () => HasItsNetwork(await engine.Containers.InspectContainerAsync(container.ID)),
            $"the computer of session {sessionId} on its network");
        return await RunInContainerAsync(engine, container.ID, script, timeout);
    }

    /// <summary>Whether a computer is on its network: attached to one, or made without any (egress off).</summary>
    public static bool HasItsNetwork(ContainerInspectResponse container) =>
        container.HostConfig.NetworkMode == "none" || container.NetworkSettings.Networks is { Count: > 0 };

    /// <summary>Runs <c>bash -c <paramref name="script"/></c> as <c>raworc</c> in a container of <paramref name="engine"/>.</summary>
    protected static Task<(long ExitCode, string Stdout, string Stderr)> RunInContainerAsync(
        IDockerClient engine, string container, string script, TimeSpan? timeout) =>
        ExecInContainerAsync(engine, container, ["bash", "-c", script], timeout ?? TimeSpan.FromSeconds(60));

    /// <summary>
    /// Runs <paramref name="command"/> as <c>raworc</c> in a container and returns its exit code and output. When the engine
    /// reports that the OCI runtime itself failed to start the process (output beginning <c>OCI runtime exec failed</c>,
    /// the command never ran), it tries again, at most three times in all: once in a CI run, gVisor's <c>runsc exec</c>
    /// failed so on a running computer of an idle session, which no run reproduced; the command is the test's, not its
    /// subject. The third failure is returned as it is, whole, for the test to show.
    /// </summary>
    private static async Task<(long ExitCode, string Stdout, string Stderr)> ExecInContainerAsync(
        IDockerClient engine, string container, IList<string> command, TimeSpan timeout)
    {
        for (var attempt = 1; ; attempt++)
        {
            var exec = await engine.Exec.ExecCreateContainerAsync(container,
                new ContainerExecCreateParameters { Cmd = command, AttachStdout = true, AttachStderr = true, User = "raworc" });
            using var cts = new CancellationTokenSource(timeout);
            (long ExitCode, string Stdout, string Stderr) result;
            using (var stream = await engine.Exec.StartAndAttachContainerExecAsync(exec.ID, tty: false, cts.Token))
            {
                var (stdout, stderr) = await stream.ReadOutputToEndAsync(cts.Token);
                var inspected = await engine.Exec.InspectContainerExecAsync(exec.ID, cts.Token);
                result = (inspected.ExitCode, stdout, stderr);
            }
            var runtimeFailed = result.ExitCode != 0 && (result.Stdout + result.Stderr).StartsWith("OCI runtime exec failed", StringComparison.Ordinal);
            if (!runtimeFailed || attempt == 3)
            {
                return result;
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Tags <see cref="Image"/> from the image <c>eng/host-agent-image.sh</c> built; on Swarm, copies it to the nodes too.</summary>
    public async Task TagImageAsync()
    {
        await Docker.Images.TagImageAsync(SourceImage, new ImageTagParameters { RepositoryName = Image.Split(':')[0], Tag = Image.Split(':')[1] });
        await PublishImageAsync();
    }

    /// <summary>
    /// On Swarm (once the cluster is up), copies the main engine's <see cref="Image"/> to each node whose copy differs
    /// (<c>eng/swarm-cluster.sh up</c>), as after a test changed it; on Docker nothing (the API reads the main engine's).
    /// </summary>
    public async Task PublishImageAsync()
    {
        if (!OnSwarm || _cluster.Count == 0)
        {
            return;
        }
        await UpAsync(Image);
    }

    /// <summary>Removes the <see cref="Image"/> tag (the image itself stays under <c>latest</c>); on Swarm from every node too.</summary>
    public async Task UntagImageAsync()
    {
        await Docker.Images.DeleteImageAsync(Image, new ImageDeleteParameters { Force = false });
        if (OnSwarm)
        {
            foreach (var engine in await EnginesAsync())
            {
                await engine.Images.DeleteImageAsync(Image, new ImageDeleteParameters { Force = true });
            }
        }
    }

    public override async Task DisposeAsync()
    {
        var deployment = Assert.Single(await QueryAsync<string>("SELECT id FROM deployment"));
        await base.DisposeAsync();
        // Sessions the tests left behind: their computers must not outlive the run. Only this deployment's are touched.
        var owned = new Dictionary<string, IDictionary<string, bool>>
        {
            ["label"] = new Dictionary<string, bool> { [$"{DockerComputerProvider.DeploymentLabel}={deployment}"] = true },
        };
        // All at once: a run leaves dozens, and each removal waits on its container's end (longer under gVisor).
        await Task.WhenAll((await Docker.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = owned }))
            .Select(container => Docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true })));
        await Task.WhenAll(((await Docker.Volumes.ListAsync(new VolumesListParameters { Filters = owned })).Volumes ?? [])
            .Select(async volume =>
            {
                await Docker.Volumes.RemoveAsync(volume.Name, force: true);
                await VolumeFileSystems.RemoveAsync(ComputerOptions.DefaultVolumeFileSystemsPath, volume.Name, CancellationToken.None);
            }));
        if (_model is not null)
        {
            await _model.DisposeAsync();
        }
        if (_traces is not null)
        {
            await _traces.DisposeAsync();
        }
        if (OnSwarm)
        {
            await CleanClusterAsync(deployment);
        }
        Docker.Dispose();
    }
}

/// <summary>Tests that need real session computers share one started system with computers.</summary>
[CollectionDefinition(Name)]
public sealed class ComputersAppCollection : ICollectionFixture<ComputersAppFixture>
{
    public const string Name = "Raworc with computers";
}

/// <summary>
/// A second system with computers whose API waits only <see cref="StartDeadlineSeconds"/> for an agent to report ready:
/// the start-deadline test waits that long instead of the shared system's 45 s, and the test that restarts the API has
/// a system nothing else waits on.
/// </summary>
public sealed class ShortDeadlineAppFixture : ComputersAppFixture
{
    /// <summary>
    /// How long this system's API waits for an agent to report ready, seconds: 20, where 10 once ran out for two agents of
    /// this system (a CI run at load 30, its three lanes beside a benchmark).
    /// </summary>
    public new const int StartDeadlineSeconds = 20;

    protected override int StartDeadline => StartDeadlineSeconds;
}

/// <summary>The second system with computers, for the test that restarts the API and the start-deadline test.</summary>
[CollectionDefinition(Name)]
public sealed class ApiRestartCollection : ICollectionFixture<ShortDeadlineAppFixture>
{
    public const string Name = "Raworc with computers, restarted or waiting out a short start deadline";
}
