using Docker.DotNet.Models;

namespace Raworc.ApiService.Computers.Swarm;

/// <summary>
/// A session computer's Swarm service, built from the same settings the Docker provider gives its containers
/// (<see cref="DockerComputerProvider.HardenedHostConfig"/> and <see cref="DockerComputerProvider.BuildEnvironment"/>), so
/// the two providers cannot drift apart. What Swarm (Engine API 1.41, Docker 20.10) cannot express per service is set on
/// the node engines instead (README "Providers: Docker and Swarm"): <c>no-new-privileges</c> (dockerd
/// <c>--no-new-privileges</c>), the OCI runtime (dockerd <c>--default-runtime</c>), and the home folder's owner (a
/// Swarm tmpfs takes a size and a mode only). The home folder is therefore not a Swarm tmpfs but a named volume of the
/// node's <c>local</c> driver that is itself a tmpfs (<see cref="HomeVolumeOf"/>): owned by uid 1000, mode 0700, and empty at
/// every start (the node mounts it when the computer starts and unmounts it, contents and all, when it ends). A Swarm tmpfs
/// there was root's, and runc gave it the mode of the image's <c>/home/raworc</c> (0755) whatever the mode asked, so the
/// session's code could write nothing into its home (ComputerBoundaryTests on Swarm).
/// </summary>
internal static class SwarmServiceSpec
{
    /// <summary>Label on a service naming the node its volume lives on (the node id it is pinned to).</summary>
    public const string NodeLabel = "raworc.node";

    /// <summary>Seconds a stopping computer gets between SIGTERM and SIGKILL, as with the Docker provider.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    /// <summary>The service of one session's computer, pinned to <paramref name="nodeId"/>.</summary>
    /// <param name="name">Service and volume name (<see cref="DockerComputerProvider.NameOf"/>).</param>
    /// <param name="image">The image every node must hold (never pulled).</param>
    /// <param name="env">The container's environment, <c>NAME=value</c>.</param>
    /// <param name="labels">The computer's labels (managed, deployment, session, pooled).</param>
    /// <param name="nodeId">The node holding the volume.</param>
    /// <param name="memoryBytes">The memory limit and reservation.</param>
    /// <param name="settings">The computers' settings.</param>
    /// <param name="network">The Swarm-scoped network to join, or null for none.</param>
    public static ServiceSpec Build(string name, string image, IList<string> env, IDictionary<string, string> labels, string nodeId,
        long memoryBytes, ComputerOptions settings, string? network)
    {
        var host = DockerComputerProvider.HardenedHostConfig(name, settings);
        var serviceLabels = new Dictionary<string, string>(labels) { [NodeLabel] = nodeId };
        var mounts = host.Mounts.Select(mount => new Mount
        {
            Type = mount.Type,
            Source = mount.Source,
            Target = mount.Target,
            ReadOnly = mount.ReadOnly,
        }).ToList();
        // The scratch folders, sized as on the Docker provider; a Swarm tmpfs has no uid option (see the remarks above).
        mounts.Add(Scratch("/tmp", settings));
        mounts.Add(Home(name, labels, settings));
        return new ServiceSpec
        {
            Name = name,
            Labels = serviceLabels,
            Mode = new ServiceMode { Replicated = new ReplicatedService { Replicas = 1 } },
            TaskTemplate = new TaskSpec
            {
                ContainerSpec = new ContainerSpec
                {
                    Image = image,
                    Env = env,
                    User = DockerComputerProvider.ContainerUser,
                    Labels = labels,
                    Mounts = mounts,
                    ReadOnly = host.ReadonlyRootfs,
                    Init = host.Init,
                    CapabilityDrop = host.CapDrop,
                    Ulimits = host.Ulimits,
                    StopGracePeriod = (long)StopGrace.TotalMilliseconds * 1_000_000,
                },
                Resources = new ResourceRequirements
                {
                    Limits = new SwarmLimit { NanoCPUs = host.NanoCPUs, MemoryBytes = memoryBytes, Pids = host.PidsLimit ?? 0 },
                    // The scheduler places a new session within these: a node without this much unreserved CPU and memory is skipped.
                    Reservations = new SwarmResources { NanoCPUs = host.NanoCPUs, MemoryBytes = memoryBytes },
                },
                // As on the Docker provider, a computer that exits stays exited: the reconciler decides what follows.
                RestartPolicy = new SwarmRestartPolicy { Condition = "none" },
                Placement = new Placement { Constraints = [$"node.id=={nodeId}"] },
                LogDriver = new SwarmDriver { Name = host.LogConfig.Type, Options = host.LogConfig.Config },
                Networks = network is null ? [] : [new NetworkAttachmentConfig { Target = network }],
            },
        };
    }

    /// <summary>Role label value (<c>raworc.role=home</c>) of the volumes that hold the computers' home folders.</summary>
    public const string HomeRole = "home";

    /// <summary>The home folder's volume of the computer named <paramref name="name"/> (<c>raworc-session-&lt;id&gt;-home</c>), on its node.</summary>
    public static string HomeVolumeOf(string name) => $"{name}-home";

    // The home folder: a tmpfs volume (nosuid, nodev and noexec, as Docker's tmpfs mounts on the single engine), with the
    // computer's deployment labels but no session label, so it never counts as a session's files.
    private static Mount Home(string name, IDictionary<string, string> labels, ComputerOptions settings)
    {
        var uid = SessionArchive.RaworcUid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var volumeLabels = labels.Where(label => label.Key is ComputerLabels.Managed or ComputerLabels.Deployment)
            .ToDictionary(label => label.Key, label => label.Value);
        volumeLabels[ComputerLabels.Role] = HomeRole;
        return new Mount
        {
            Type = "volume",
            Source = HomeVolumeOf(name),
            Target = "/home/raworc",
            VolumeOptions = new VolumeOptions
            {
                NoCopy = true,
                Labels = volumeLabels,
                DriverConfig = new Driver
                {
                    Name = "local",
                    Options = new Dictionary<string, string>
                    {
                        ["type"] = "tmpfs",
                        ["device"] = "tmpfs",
                        ["o"] = $"size={settings.ScratchMiB * 1024L * 1024L},uid={uid},gid={uid},mode=0700,nosuid,nodev,noexec",
                    },
                },
            },
        };
    }

    private static Mount Scratch(string target, ComputerOptions settings) => new()
    {
        Type = "tmpfs",
        Target = target,
        TmpfsOptions = new TmpfsOptions { SizeBytes = settings.ScratchMiB * 1024L * 1024L, Mode = Convert.ToUInt32("1777", 8) },
    };
}
