using System.ComponentModel.DataAnnotations;

namespace Raworc.ApiService.Computers;

/// <summary>Settings of sessions' computers, bound from the configuration section <c>Computers</c>.</summary>
public sealed class ComputerOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Computers";

    /// <summary>
    /// Where computers run: <c>docker</c> (default), one container per session on the engine at <see cref="DockerEndpoint"/>;
    /// or <c>swarm</c>, one one-replica service per session on the Docker Swarm whose manager is at <see cref="DockerEndpoint"/>
    /// (<see cref="Swarm.SwarmComputerProvider"/>; README "Providers: Docker and Swarm").
    /// </summary>
    [RegularExpression(@"\A(docker|swarm)\z", ErrorMessage = "Provider must be 'docker' or 'swarm'.")]
    public string Provider { get; set; } = ComputerProviders.Docker;

    /// <summary>Image every computer runs; it must exist on the engine (never pulled).</summary>
    [Required]
    public string Image { get; set; } = "raworc/host-agent:latest";

    /// <summary>
    /// Image of the computers of sessions with a desktop (<c>"desktop": true</c>): the plain image plus a virtual X display,
    /// a window manager, xdotool, ImageMagick, st (a terminal) and a browser (<c>eng/host-agent-desktop-image.sh</c>); never pulled.
    /// </summary>
    [Required]
    public string DesktopImage { get; set; } = "raworc/host-agent-desktop:latest";

    /// <summary>Whether a session gets a desktop when its <c>POST /sessions</c> body says nothing (default false).</summary>
    public bool Desktop { get; set; }

    /// <summary>Width of a desktop's screen, in pixels (default 1280).</summary>
    [Range(320, 7680)]
    public int DesktopWidth { get; set; } = 1280;

    /// <summary>Height of a desktop's screen, in pixels (default 800).</summary>
    [Range(200, 4320)]
    public int DesktopHeight { get; set; } = 800;

    /// <summary>
    /// Memory limit of a computer with a desktop, in MiB (default 1024: the display, a browser and the scratch folders
    /// need more than <see cref="MemoryMiB"/>); never less than <see cref="MemoryMiB"/>.
    /// </summary>
    [Range(16, 1024 * 1024)]
    public int DesktopMemoryMiB { get; set; } = 1024;

    /// <summary>CPU limit per computer, in CPUs (0.5 = half of one core).</summary>
    [Range(0.01, 256)]
    public double Cpus { get; set; } = 0.5;

    /// <summary>Memory limit per computer, in MiB.</summary>
    [Range(16, 1024 * 1024)]
    public int MemoryMiB { get; set; } = 512;

    /// <summary>
    /// What a computer's own code may reach besides the API's computer socket: <c>internet</c> (default) joins the
    /// computers' network (<see cref="Network"/>, traffic between computers off, the host and 169.254.0.0/16 blocked);
    /// <c>none</c> gives the computer no network at all (Docker's <c>none</c> mode).
    /// </summary>
    [RegularExpression(@"\A(internet|none)\z", ErrorMessage = "Egress must be 'internet' or 'none'.")]
    public string Egress { get; set; } = ComputerEgress.Internet;

    /// <summary>
    /// Whether the single engine starts a computer without its network and attaches it right after the start (default
    /// true): Docker's endpoint set-up on a user-defined network (~0.2 s) then runs beside the agent's start instead of
    /// before it. The agent reports ready over the API's socket meanwhile, and holds <c>setup.sh</c> and its first command
    /// until the computer has a route out; the reconciler attaches a running computer it finds without its network. Set
    /// false for an image whose own start needs the network before the agent's. Not done under gVisor (<c>runsc</c>), where
    /// a computer attached after its start resolved no name, nor by the Swarm provider.
    /// </summary>
    public bool AttachNetworkAfterStart { get; set; } = true;

    /// <summary>
    /// Name of the Docker bridge network computers join when <see cref="Egress"/> is <c>internet</c>; made by the API
    /// when missing, with inter-container traffic off and the Linux bridge named <see cref="BridgeName"/>.
    /// </summary>
    [RegularExpression(@"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\z")]
    public string Network { get; set; } = "raworc-computers";

    /// <summary>Name of the Linux bridge interface of <see cref="Network"/> (at most 15 characters), used by the firewall rules.</summary>
    [RegularExpression(@"\A[A-Za-z0-9_-]{1,15}\z")]
    public string BridgeName { get; set; } = "raworc0";

    /// <summary>
    /// Path of the Unix socket on which the API serves computers (the Host's routes only). Its folder is bind-mounted
    /// read-only at <c>/run/raworc</c> in every computer. Empty (the default) means
    /// <c>&lt;temp&gt;/raworc-&lt;deployment id&gt;/api.sock</c>: one per deployment, stable across restarts of the API and of
    /// the whole system.
    /// </summary>
    public string HostSocketPath { get; set; } = "";

    /// <summary>Computers reach the API through the socket (<see cref="HostSocketPath"/> set, no <see cref="ApiUrl"/>).</summary>
    public bool UsesHostSocket => HostSocketPath.Length > 0 && ApiUrl.Length == 0;

    /// <summary>
    /// Most flows (TCP connections, UDP and ICMP exchanges) one computer may have in the host's connection-tracking table
    /// at once (default 2048); past it, the first packet of a new flow is rejected (<c>connlimit</c> in the firewall's
    /// chain, <see cref="ComputerNetwork"/>). The table is the whole machine's (<c>nf_conntrack_max</c>, 262,144 here) and a
    /// full one drops every new flow of the host, its own connections to Postgres and Redis included: without a bound one
    /// computer sending UDP to many ports filled 40,000 entries in 1.7 s, the table in about 11 s (a break-out attempt).
    /// An unanswered UDP flow stays tracked ~30 s. Only where the API manages the firewall.
    /// </summary>
    [Range(64, 1_000_000)]
    public int TrackedFlowsPerComputer { get; set; } = 2048;

    /// <summary>
    /// Most new flows per second one computer may start once it has used a burst of <see cref="TrackedFlowsPerComputer"/>
    /// (default 20; <c>hashlimit</c> per source in the firewall's chain, REJECT past it). <see cref="TrackedFlowsPerComputer"/>
    /// counts live flows only, but a closed TCP connection stays in the host's table 10 s (reset) to 120 s (TIME_WAIT)
    /// uncounted: a break-out attempt opening and closing ~2,000 connections a second held 12,128 entries. This rate bounds
    /// those to about 120 times it (2,400) on top of the live ones.
    /// </summary>
    [Range(1, 100_000)]
    public int NewFlowsPerSecondPerComputer { get; set; } = 20;

    /// <summary>
    /// Most connections one computer may hold open on the computer socket (default 64; its agent needs three or four).
    /// Past it, new connections from that computer are closed at once (<see cref="SocketConnectionLimit"/>).
    /// </summary>
    [Range(4, 100_000)]
    public int SocketConnectionsPerComputer { get; set; } = 64;

    /// <summary>
    /// Most connections open on the computer socket in all (default 4096): keep it well below the API's open-files limit,
    /// since each connection holds a file descriptor.
    /// </summary>
    [Range(16, 1_000_000)]
    public int SocketConnections { get; set; } = 4096;

    /// <summary>
    /// Apply the host firewall rules that keep computers off the host and off private and link-local networks
    /// (<see cref="AllowedPrivateNetworks"/>; iptables, needs root and a local engine). Default true; where the rules cannot be applied the API logs a warning once.
    /// </summary>
    public bool ManageFirewall { get; set; } = true;

    /// <summary>
    /// IPv4 networks in CIDR form (<c>10.1.2.0/24</c>, <c>192.168.1.20/32</c>) that computers may reach although the
    /// firewall (<see cref="ManageFirewall"/>) keeps them off: private (10/8, 172.16/12, 192.168/16), shared (100.64/10)
    /// and reserved addresses, and every network the host routes itself (its LAN, a cloud network's databases, other
    /// bridges; <see cref="ComputerNetwork.HostRoutes"/>). The host's own DNS resolvers (port 53) are always reachable.
    /// Empty by default; a network within or around 169.254.0.0/16 (link-local) is refused at start-up.
    /// </summary>
    public string[] AllowedPrivateNetworks { get; set; } = [];

    /// <summary>Most processes (and threads) in one computer; a fork bomb stops there.</summary>
    [Range(16, 1_000_000)]
    public int PidsLimit { get; set; } = 512;

    /// <summary>Open files per process in a computer (soft and hard <c>nofile</c> limit).</summary>
    [Range(64, 1_048_576)]
    public int OpenFilesLimit { get; set; } = 4096;

    /// <summary>
    /// Most MiB of TCP buffers (sent and received data the kernel holds) one computer may take, with cgroup v1 where the
    /// API manages the engine's host (<c>runc</c> and <c>runsc</c> alike); 0 leaves them unbounded there and turns
    /// <see cref="MaxTcpMemoryMiB"/> off. Default 64: room for a dozen fast downloads, and ~35 computers at the bound before
    /// the host's default TCP budget (<c>net.ipv4.tcp_mem</c>'s maximum, ~2.2 GiB on a machine of 24 GiB) is reached. The
    /// kernel lets each connection past it by about one packet's buffer, so many connections pass it; see
    /// <see cref="MaxTcpMemoryMiB"/> and <c>DockerComputerProvider.LimitTcpMemoryAsync</c>.
    /// </summary>
    [Range(0, 1024 * 1024)]
    public int TcpMemoryMiB { get; set; } = 64;

    /// <summary>
    /// The TCP buffers, in MiB, past which a live session is closed (never deleted) with a <c>system</c> message saying why;
    /// 0 turns it off. Read every two seconds (the reconciler's pass) from the computer's memory cgroup
    /// (<c>memory.kmem.tcp.usage_in_bytes</c>), where <see cref="TcpMemoryMiB"/> is applied. The kernel holds
    /// <see cref="TcpMemoryMiB"/> for a few connections, but grants every connection at least one packet's buffer past it
    /// (~40 KiB per socket on loopback): 8,000 connected pairs held 624 MiB against a bound of 64 (measured 2026-12-04), and
    /// nothing else stops a computer before the host's TCP budget, which all its sockets share. Default 256: four times the
    /// bound, ~3,000 full connections; a computer can pass it by what it queues in two seconds.
    /// </summary>
    [Range(0, 1024 * 1024)]
    public int MaxTcpMemoryMiB { get; set; } = 256;

    /// <summary>
    /// The TCP sockets in a computer's network namespace past which its live session is closed like one past
    /// <see cref="MaxTcpMemoryMiB"/> (read with it, where it is read); 0 turns it off. The data of a connection no process
    /// has accepted yet is charged to no cgroup (the kernel charges a socket when it is accepted): 4 processes × 3,500
    /// such connections held 930 MiB of the host's TCP memory while the computer's figure read 9 (a break-out attempt,
    /// 2026-12-05). Each waits with at most its first window (~64 KiB with the kernel's default receive buffer), so the
    /// count bounds them. Default 8,192: two processes' worth of open files (<see cref="OpenFilesLimit"/>), ~270 MiB of
    /// waiting connections at most.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int MaxTcpSockets { get; set; } = 8192;

    /// <summary>
    /// The entries of a computer's own connection-tracking table (its network namespace's; Docker's rules for the embedded
    /// DNS make the kernel track connections there) past which its live session is closed like one past
    /// <see cref="MaxTcpMemoryMiB"/>; 0 turns it off. The entries are kernel memory charged to no cgroup (~256 bytes each):
    /// loopback UDP to many ports filled one to the host's <c>nf_conntrack_max</c>, 262,142 entries and ~64 MiB, in 4.5 s
    /// (a break-out attempt, 2026-12-05). Default 65,536 (~16 MiB); a UDP exchange stays in the table for 30 s to 120 s.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int MaxTrackedConnections { get; set; } = 65_536;

    /// <summary>Size of each in-memory scratch folder (<c>/tmp</c> and the user's home), in MiB; counted against <see cref="MemoryMiB"/>.</summary>
    [Range(1, 1024 * 1024)]
    public int ScratchMiB { get; set; } = 256;

    /// <summary>
    /// Most disk a session's volume may take, in MiB. With <see cref="VolumeFileSystems"/> (the default) it is the size of
    /// the volume's own filesystem: a write past it fails in the computer with "No space left on device", and nothing
    /// else happens. A volume without one (made before, or with the setting off) is measured every
    /// <see cref="VolumeCheckSeconds"/> instead, and a live session over it is closed (never deleted) with a <c>system</c>
    /// message saying why; such a computer can go past the limit by what it writes in between. 0 turns both off.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int MaxVolumeMiB { get; set; } = 10 * 1024;

    /// <summary>
    /// Most inodes (files, folders, links) a session's volume may hold; a live session over it is closed like one over
    /// <see cref="MaxVolumeMiB"/>. 0 turns the count off. The engine's own measurement counts an empty file or a folder as
    /// 0 bytes, so without this a session could use up the inodes (and, with folders, the disk) of the engine's filesystem;
    /// counted every <see cref="VolumeCheckSeconds"/> by a helper container (<see cref="IComputerProvider.CountVolumesAsync"/>).
    /// </summary>
    [Range(0, int.MaxValue)]
    public int MaxVolumeInodes { get; set; } = 1_000_000;

    /// <summary>
    /// Whether each new session volume is a filesystem of its own (default <see langword="true"/>): an ext4 filesystem of
    /// <see cref="MaxVolumeMiB"/> (less its metadata, about 3 %) and <see cref="MaxVolumeInodes"/> inodes in a sparse file
    /// under <see cref="VolumeFileSystemsPath"/>, loop-mounted by the API and bound as the Docker volume. The kernel then
    /// holds the limit, however fast a computer writes or allocates (<c>fallocate</c>); the host's disk holds only the
    /// blocks written. Needs the Docker provider with the engine on the API's machine (a <c>unix://</c>
    /// <see cref="DockerEndpoint"/>), the API as root, and <c>mkfs.ext4</c>; without them the API logs a warning once and
    /// falls back to measured volumes. Volumes made before keep being measured.
    /// </summary>
    public bool VolumeFileSystems { get; set; } = true;

    /// <summary>
    /// Folder on the API's (and the engine's) machine holding the volume filesystems: <c>&lt;volume&gt;.ext4</c>, the
    /// filesystem's sparse file, and <c>&lt;volume&gt;/</c>, where it is mounted (an empty, immutable folder when it is not,
    /// so nothing can be written there by mistake). Absolute path; default <c>/var/lib/raworc/volumes</c>.
    /// </summary>
    [Required]
    [RegularExpression(@"\A/[A-Za-z0-9_./-]*\z", ErrorMessage = "VolumeFileSystemsPath must be an absolute path of letters, digits, _ . / and -.")]
    public string VolumeFileSystemsPath { get; set; } = DefaultVolumeFileSystemsPath;

    /// <summary>The default of <see cref="VolumeFileSystemsPath"/>.</summary>
    public const string DefaultVolumeFileSystemsPath = "/var/lib/raworc/volumes";

    /// <summary>The longest a remix's copy of its parent's folders may take, in seconds; past it the remix errors.</summary>
    [Range(1, 24 * 3600)]
    public int CopyTimeoutSeconds { get; set; } = 600;

    /// <summary>
    /// The longest one piece of computer work (create, restore, close, delete) may take, engine calls included, in seconds;
    /// a remix gets <see cref="CopyTimeoutSeconds"/> more. Past it the attempt is abandoned and retried with backoff. The
    /// item's lease is not tied to it: see <see cref="WorkLeaseSeconds"/>.
    /// </summary>
    [Range(10, 24 * 3600)]
    public int WorkTimeoutSeconds { get; set; } = 300;

    /// <summary>
    /// How long a claimed work item stays its worker's without a renewal, in seconds (default 60). The worker renews the
    /// lease every third of this while its attempt runs, so the item of a worker that died (process killed, machine lost)
    /// is taken by another replica at most this long after its last renewal. A worker that cannot renew in time (the
    /// database out of reach, the process stalled) abandons its attempt, since another may hold the item by then.
    /// </summary>
    [Range(3, 3600)]
    public int WorkLeaseSeconds { get; set; } = 60;

    /// <summary>Days a run of a work item is kept in <c>work_runs</c> (default 7); older runs are removed by the reconciler.</summary>
    [Range(1, 3650)]
    public int WorkRunRetentionDays { get; set; } = 7;

    /// <summary>Seconds between two measurements of the session volumes.</summary>
    [Range(1, 24 * 3600)]
    public int VolumeCheckSeconds { get; set; } = 30;

    /// <summary>Console log kept per computer by the engine: json-file with this many MiB per file, 3 files.</summary>
    [Range(1, 1024)]
    public int LogMaxMiB { get; set; } = 10;

    /// <summary>
    /// OCI runtime of every computer (Docker's <c>HostConfig.Runtime</c>): <c>runc</c> (default), or any runtime registered
    /// with the engine, such as <c>runsc</c>, which runs each computer under gVisor's user-space kernel (<c>eng/gvisor.sh</c>
    /// installs and registers it). A name the engine does not know makes each create fail with
    /// <see cref="ComputerRuntimeNotFoundException"/>. Letters, digits, <c>_</c>, <c>.</c> and <c>-</c> only.
    /// </summary>
    [Required]
    [RegularExpression(@"\A[A-Za-z0-9_.-]+\z", ErrorMessage = "Runtime must be a runtime name such as runc or runsc ([A-Za-z0-9_.-]+).")]
    public string Runtime { get; set; } = "runc";

    /// <summary>Engine address: <c>unix:///var/run/docker.sock</c> (default) or <c>tcp://host:port</c>.</summary>
    [Required]
    public string DockerEndpoint { get; set; } = DockerEngineSetting.DefaultEndpoint;

    /// <summary>Time limit of <c>setup.sh</c> at each start, in seconds (passed as <c>RAWORC_SETUP_TIMEOUT</c>).</summary>
    [Range(1, 24 * 3600)]
    public int SetupTimeoutSeconds { get; set; } = 300;

    /// <summary>How long a new session may stay <c>init</c> before its agent reports ready, in seconds.</summary>
    [Range(1, 24 * 3600)]
    public int StartDeadlineSeconds { get; set; } = 60;

    /// <summary>
    /// Base URL agents use to reach the API over TCP instead of the computer socket, for computers on other machines (a
    /// Swarm across machines, a remote engine): an address at which the nodes reach <see cref="ComputerPort"/>, such as
    /// <c>http://10.0.0.5:7413/</c>. Empty (the default) means the socket. Setting it requires <see cref="ComputerPort"/>.
    /// </summary>
    public string ApiUrl { get; set; } = "";

    /// <summary>
    /// TCP port on which the API serves computers that reach it by <see cref="ApiUrl"/>, on every address of its machine:
    /// only the Host's routes answer there (everything else is the computer socket's 404), and connections are bounded per
    /// source address (<see cref="ComputerPortConnectionsPerAddress"/>). 0 (the default) opens no such port; it is required
    /// when <see cref="ApiUrl"/> is set, since the API's own HTTP port serves every route.
    /// </summary>
    [Range(0, 65535)]
    public int ComputerPort { get; set; }

    /// <summary>
    /// Most connections open on <see cref="ComputerPort"/> from one source address (default 1024). Behind a node's NAT every
    /// computer of that node shares its address, so this bounds one node; size it to the node's computers times
    /// <see cref="SocketConnectionsPerComputer"/>'s need (an agent holds three or four). The port's total is
    /// <see cref="SocketConnections"/>.
    /// </summary>
    [Range(4, 1_000_000)]
    public int ComputerPortConnectionsPerAddress { get; set; } = 1024;

    /// <summary>
    /// Whether several API processes on this machine (the replicas of one deployment) listen on <see cref="ComputerPort"/>
    /// together: each binds it with SO_REUSEPORT and the kernel spreads new connections over the live ones, so a replica
    /// that dies leaves the others serving. Linux only (refused at start-up elsewhere), and only among processes of the
    /// same effective uid. False (the default): a second process on the port stops at start-up with the port in use, as
    /// does any process that binds it without this setting. The AppHost sets it when it runs more than one replica.
    /// </summary>
    public bool ComputerPortShared { get; set; }

    /// <summary>
    /// Identity of this Raworc deployment, written as the <c>raworc.deployment</c> label on its containers and volumes;
    /// only those are listed and reconciled. Empty (the default) means the id the database holds (table
    /// <c>deployment</c>, made by the first migration), so every replica of one deployment agrees.
    /// </summary>
    public string Deployment { get; set; } = "";

    /// <summary>False disables computers entirely: work is queued but nobody carries it out (API-only tests, or a replica that serves only HTTP).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Most computers the deployment runs at once, counted as its live sessions (<c>init</c>, <c>idle</c>, <c>busy</c>);
    /// 0 (the default) means no limit. Creating, restoring or remixing past it is a 409 <c>CONFLICT</c>
    /// (see <see cref="Sessions.SessionQuotas"/>).
    /// </summary>
    [Range(0, 1_000_000)]
    public int Capacity { get; set; }

    /// <summary>
    /// How many started, unassigned computers the deployment keeps waiting for new sessions (default 2; 0 turns the warm
    /// pool off and every session starts its own computer). A new session claims one and is <c>idle</c> as soon as its agent
    /// has taken the session over; the pool is refilled in the background. Pooled computers count against
    /// <see cref="Capacity"/>: the pool fills only what the live sessions leave of it. See README, "Warm pool".
    /// </summary>
    [Range(0, 64)]
    public int WarmPool { get; set; } = 2;

    /// <summary>How many work items one API process carries out at once.</summary>
    [Range(1, 64)]
    public int WorkConcurrency { get; set; } = 4;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Uri.TryCreate(DockerEndpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("unix" or "tcp" or "http" or "https" or "npipe"))
        {
            yield return new ValidationResult(
                "DockerEndpoint must be an absolute unix://, tcp://, http(s):// or npipe:// address.", [nameof(DockerEndpoint)]);
        }
        if (ApiUrl.Length > 0 && ComputerPort == 0)
        {
            // The API's own HTTP port serves every route (login, operators, the dashboard): computers get a port of their own.
            yield return new ValidationResult(
                "ApiUrl needs ComputerPort: the port (reached at ApiUrl) on which computers find only the Host's routes.",
                [nameof(ComputerPort)]);
        }
        if (ComputerPortShared && ComputerPort > 0 && !OperatingSystem.IsLinux())
        {
            yield return new ValidationResult(
                "ComputerPortShared needs Linux (SO_REUSEPORT spreading connections over the processes on the port).", [nameof(ComputerPortShared)]);
        }
        if (ApiUrl.Length > 0 && !(Uri.TryCreate(ApiUrl, UriKind.Absolute, out var api) && api.Scheme is "http" or "https"))
        {
            yield return new ValidationResult("ApiUrl must be an absolute http:// or https:// address.", [nameof(ApiUrl)]);
        }
        foreach (var network in AllowedPrivateNetworks)
        {
            if (!ComputerNetwork.TryParseAllowedNetwork(network, out _))
            {
                yield return new ValidationResult(
                    $"AllowedPrivateNetworks: '{network}' is not an IPv4 network in CIDR form (such as 10.1.2.0/24) outside 169.254.0.0/16.",
                    [nameof(AllowedPrivateNetworks)]);
            }
        }
        if (MaxTcpMemoryMiB > 0 && MaxTcpMemoryMiB <= TcpMemoryMiB)
        {
            // At or under the kernel's bound, a computer using no more than it was given would be closed.
            yield return new ValidationResult(
                "MaxTcpMemoryMiB must be 0 (off) or more than TcpMemoryMiB: it closes sessions whose computers pass that bound.",
                [nameof(MaxTcpMemoryMiB)]);
        }
        if (Provider == ComputerProviders.Swarm && Egress == ComputerEgress.None)
        {
            // A Swarm service that joins no network gets the node's default bridge, where computers can reach each other.
            yield return new ValidationResult(
                "Egress 'none' is not available with Provider 'swarm' (a service without a network joins the node's default bridge).",
                [nameof(Egress)]);
        }
    }
}

/// <summary>Values of <see cref="ComputerOptions.Provider"/>.</summary>
public static class ComputerProviders
{
    /// <summary>One Docker engine (<see cref="DockerComputerProvider"/>).</summary>
    public const string Docker = "docker";

    /// <summary>A Docker Swarm cluster (<see cref="Swarm.SwarmComputerProvider"/>).</summary>
    public const string Swarm = DockerEngineSetting.SwarmProvider;
}

/// <summary>Values of <see cref="ComputerOptions.Egress"/>.</summary>
public static class ComputerEgress
{
    /// <summary>The computers' bridge network: the internet yes; other computers, the host and link-local no.</summary>
    public const string Internet = "internet";

    /// <summary>No network interface but loopback.</summary>
    public const string None = "none";
}
