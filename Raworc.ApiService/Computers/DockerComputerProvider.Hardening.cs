using System.Globalization;
using Docker.DotNet.Models;

namespace Raworc.ApiService.Computers;

public sealed partial class DockerComputerProvider
{
    /// <summary>
    /// The engine settings every computer runs with. What the session's code gets: a non-root user (uid 1000) with
    /// no capabilities and no way to gain any (<c>no-new-privileges</c>, so setuid binaries do nothing), a read-only
    /// root filesystem with in-memory <c>/tmp</c> and home (<see cref="ComputerOptions.ScratchMiB"/> each, counted
    /// against the memory limit), <see cref="ComputerOptions.PidsLimit"/> processes, a <c>nofile</c> limit, a bounded
    /// console log, and either the computers' network or none (<see cref="ComputerOptions.Egress"/>). The API's
    /// computer socket folder is mounted read-only at <see cref="ComputerSocket.MountPath"/>.
    /// </summary>
    /// <remarks>
    /// No capability is added back: the agent, its tools, <c>setup.sh</c>, <c>pip install --user</c> and
    /// <c>git clone</c> were all run this way by the tests. User-namespace remapping is an engine-wide setting
    /// (<c>userns-remap</c> in daemon.json) that would also remap the Postgres and Redis containers of a development
    /// run and every existing volume's owners, so Raworc does not switch it on; a computer's uid 1000 is the host's
    /// uid 1000, which is why no capability and no writable host path is ever given to it.
    /// Internal, not private, so that the benchmark's hardened floor runs a container with exactly these settings.
    /// </remarks>
    internal static HostConfig HardenedHostConfig(string name, ComputerOptions settings)
    {
        var uid = SessionArchive.RaworcUid.ToString(CultureInfo.InvariantCulture);
        var scratch = $"rw,nosuid,nodev,size={settings.ScratchMiB}m";
        var mounts = new List<Mount> { new() { Type = "volume", Source = name, Target = SessionPath } };
        if (settings.UsesHostSocket)
        {
            mounts.Add(new Mount
            {
                Type = "bind",
                Source = Path.GetDirectoryName(settings.HostSocketPath)!,
                Target = ComputerSocket.MountPath,
                ReadOnly = true,
            });
        }
        return new HostConfig
        {
            NanoCPUs = (long)Math.Round(settings.Cpus * 1_000_000_000),
            Memory = settings.MemoryMiB * 1024L * 1024L,
            // Equal to Memory: no swap on top of the limit.
            MemorySwap = settings.MemoryMiB * 1024L * 1024L,
            PidsLimit = ProcessLimits(settings).CgroupPids,
            Ulimits = ProcessLimits(settings).Ulimits,
            CapDrop = ["ALL"],
            SecurityOpt = ["no-new-privileges"],
            ReadonlyRootfs = true,
            Tmpfs = new Dictionary<string, string>
            {
                ["/tmp"] = $"{scratch},mode=1777",
                [$"/home/{RaworcUser}"] = $"{scratch},mode=0700,uid={uid},gid={uid}",
            },
            LogConfig = new LogConfig
            {
                Type = "json-file",
                Config = new Dictionary<string, string>
                {
                    ["max-size"] = $"{settings.LogMaxMiB}m",
                    ["max-file"] = "3",
                },
            },
            NetworkMode = settings.Egress == ComputerEgress.None ? "none" : settings.Network,
            Runtime = settings.Runtime,
            Init = true,
            Mounts = mounts,
        };
    }

    /// <summary>Processes and threads kept for the agent under gVisor: its tools and setup.sh get the limit less this.</summary>
    public const int AgentProcessReserve = 64;

    /// <summary>Under gVisor Docker's pids limit counts the sandbox's own host threads, not the tasks inside.</summary>
    public const int GvisorThreadsPerTask = 16;

    /// <summary>
    /// How <see cref="ComputerOptions.PidsLimit"/> is enforced. With <c>runc</c> the container's pids cgroup holds it:
    /// forks past it fail with EAGAIN. Under gVisor (<c>runsc</c>) that cgroup counts the sandbox's host threads, so a
    /// burst of processes would kill the whole computer (measured: exit status 2, agent included); there the limit is
    /// the <c>nproc</c> rlimit, which gVisor's kernel enforces inside the sandbox (measured: 511 of 2,000 forks start
    /// under a limit of 512, the rest fail at once), and the cgroup only caps the sandbox's threads at
    /// <see cref="GvisorThreadsPerTask"/> per allowed task. Under <c>runc</c> <c>nproc</c> would count every process of
    /// uid 1000 on the host, all computers together, so it is not used there.
    /// </summary>
    private static (long CgroupPids, List<Ulimit> Ulimits) ProcessLimits(ComputerOptions settings)
    {
        // No core dumps: where the host's core_pattern pipes to a helper (systemd-coredump, apport), that root helper would
        // write a computer's dumps to the host's disk, outside every limit of the session (a break-out attempt's finding).
        var ulimits = new List<Ulimit>
        {
            new() { Name = "nofile", Soft = settings.OpenFilesLimit, Hard = settings.OpenFilesLimit },
            new() { Name = "core", Soft = 0, Hard = 0 },
        };
        if (settings.Runtime != "runsc")
        {
            return (settings.PidsLimit, ulimits);
        }
        ulimits.Add(new Ulimit { Name = "nproc", Soft = settings.PidsLimit, Hard = settings.PidsLimit });
        return (settings.PidsLimit * (long)GvisorThreadsPerTask, ulimits);
    }

    /// <summary>The image's user that the agent, its tools and <c>setup.sh</c> run as.</summary>
    private const string RaworcUser = "raworc";

    /// <summary>The user a computer's container runs as, <c>uid:gid</c> (the image's <c>raworc</c>, never root).</summary>
    internal static string ContainerUser { get; } = $"{SessionArchive.RaworcUid}:{SessionArchive.RaworcUid}";
}
