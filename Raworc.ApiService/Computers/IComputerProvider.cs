namespace Raworc.ApiService.Computers;

/// <summary>
/// Gives each session its computer: a container on a volume that outlives it. The Docker engine is
/// the one implementation today (<see cref="DockerComputerProvider"/>); a Kubernetes or remote Docker
/// provider implements the same contract. Every operation is keyed by the session id, so a caller
/// never stores engine ids to find a computer again.
/// </summary>
public interface IComputerProvider
{
    /// <summary>
    /// Starts a new computer for the session. A missing volume is created and seeded with the
    /// <c>/session/{code,data,secrets,logs}</c> layout, <c>code/instructions.md</c>, <c>code/setup.sh</c>
    /// and one 0600 file per secret; an existing volume (restore, remix) keeps its files untouched.
    /// A previous container of the session (for example one that exited) is replaced.
    /// </summary>
    /// <param name="spec">What the computer receives.</param>
    /// <param name="cancellationToken">Cancels the engine calls.</param>
    /// <returns>The started container's id and the volume's name.</returns>
    /// <exception cref="ComputerImageNotFoundException">The configured image is not on the engine.</exception>
    /// <exception cref="ComputerRuntimeNotFoundException">The configured OCI runtime is not registered with the engine.</exception>
    /// <exception cref="ArgumentException">A secret or environment name is not a valid variable name.</exception>
    Task<ComputerHandle> CreateAsync(ComputerSpec spec, CancellationToken cancellationToken) => CreateAsync(spec, null, cancellationToken);

    /// <summary>
    /// As <see cref="CreateAsync(ComputerSpec, CancellationToken)"/>, and calls <paramref name="beforeStart"/> once the container
    /// exists with its files in place but before it starts: no process of the computer (its agent) runs until it returns,
    /// so whatever it records about the computer is there before the agent can report anything. When it throws, the computer
    /// is removed as for any failed start and the exception propagates.
    /// </summary>
    /// <param name="spec">What the computer receives.</param>
    /// <param name="beforeStart">Called with the created container's id and the volume's name; null for nothing.</param>
    /// <param name="cancellationToken">Cancels the engine calls (and is passed to <paramref name="beforeStart"/>).</param>
    /// <returns>The started container's id and the volume's name.</returns>
    Task<ComputerHandle> CreateAsync(ComputerSpec spec, Func<ComputerHandle, CancellationToken, Task>? beforeStart, CancellationToken cancellationToken);

    /// <summary>Stops and removes the session's container, keeping its volume. Does nothing when there is none.</summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="cancellationToken">Cancels the engine calls.</param>
    Task StopAsync(Guid sessionId, CancellationToken cancellationToken);

    /// <summary>
    /// Creates the child's volume from the parent's: the folders chosen in <paramref name="parts"/> are
    /// copied with their owners and modes; the others and <c>logs/</c> start empty. The child's volume
    /// must not exist yet; the parent's may be in use by a running container.
    /// </summary>
    /// <param name="fromSessionId">The parent session, whose volume must exist.</param>
    /// <param name="toSessionId">The child session.</param>
    /// <param name="parts">Which folders to copy.</param>
    /// <param name="cancellationToken">Cancels the copy; a partly made child volume is then removed.</param>
    /// <exception cref="InvalidOperationException">The parent's volume is missing, the child's exists, or the copy failed.</exception>
    Task CopyVolumeAsync(Guid fromSessionId, Guid toSessionId, CopyParts parts, CancellationToken cancellationToken);

    /// <summary>
    /// Removes exactly the container <paramref name="computer"/> names (by its id), keeping the volume. Unlike
    /// <see cref="StopAsync"/>, it can never hit a newer container the session got since <paramref name="computer"/> was listed.
    /// </summary>
    /// <param name="computer">A computer from <see cref="ListAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the engine calls.</param>
    Task RemoveComputerAsync(ComputerInfo computer, CancellationToken cancellationToken);

    /// <summary>Removes the session's container and volume. Does nothing for what is already gone.</summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="cancellationToken">Cancels the engine calls.</param>
    Task DeleteAsync(Guid sessionId, CancellationToken cancellationToken);

    /// <summary>Lists every session computer this platform manages, running or not (helper containers excluded).</summary>
    /// <param name="cancellationToken">Cancels the engine calls.</param>
    /// <returns>One entry per container, in no particular order.</returns>
    Task<IReadOnlyList<ComputerInfo>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Lists the sessions that have a volume of this deployment, whether a container uses it or not.</summary>
    /// <param name="cancellationToken">Cancels the engine call.</param>
    /// <returns>One session id per volume, in no particular order.</returns>
    Task<IReadOnlyList<Guid>> ListVolumesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Reads a small text file of the session's running computer (for example <c>/session/logs/setup.status</c>).
    /// </summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="path">Absolute path inside the computer.</param>
    /// <param name="cancellationToken">Cancels the engine calls.</param>
    /// <returns>The file's UTF-8 text (at most its first 64 KiB: the file is the session's to write), or
    /// <see langword="null"/> when the container or the file does not exist.</returns>
    Task<string?> ReadFileAsync(Guid sessionId, string path, CancellationToken cancellationToken);

    /// <summary>
    /// The current screen of the session's desktop, as the computer's screenshot tool gives it: run as the user
    /// <c>raworc</c> against display <c>:1</c>. Nothing here is trusted: the caller checks the bytes
    /// (<see cref="ScreenImage.Check"/>). Never starts a computer.
    /// </summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="maxBytes">The most bytes read; a longer answer is cut there (and then fails the check).</param>
    /// <param name="cancellationToken">Cancels the engine calls.</param>
    /// <returns>The bytes the tool wrote, or <see langword="null"/> when the session has no running container.</returns>
    Task<byte[]?> CaptureScreenAsync(Guid sessionId, int maxBytes, CancellationToken cancellationToken);

    /// <summary>
    /// How much disk each session volume of this deployment takes, as the engine measures it (bytes, by session id).
    /// A volume the engine could not measure (its walk failed, say on a path longer than 4,096 characters) has -1. Costs a
    /// walk of every volume on the engine: call it rarely.
    /// </summary>
    /// <param name="cancellationToken">Cancels the engine call.</param>
    Task<IReadOnlyDictionary<Guid, long>> MeasureVolumesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// What the engine's measurement (<see cref="MeasureVolumesAsync"/>) leaves out: how many inodes (files, folders, links)
    /// each given session's volume holds and how many bytes of disk blocks they take, folders and the unused ends of small
    /// files included. Docker counts neither: an empty file or a folder is 0 bytes to it. Costs a walk of each volume.
    /// </summary>
    /// <param name="sessionIds">The sessions whose volumes to count (the live ones).</param>
    /// <param name="cancellationToken">Cancels the engine calls.</param>
    /// <returns>A count per session that was counted; a session missing from it was not reached this time. A provider that
    /// cannot count (the default) answers with none.</returns>
    Task<IReadOnlyDictionary<Guid, VolumeCount>> CountVolumesAsync(IReadOnlyCollection<Guid> sessionIds, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<Guid, VolumeCount>>(new Dictionary<Guid, VolumeCount>());

    /// <summary>
    /// What each running computer of <paramref name="listed"/> holds now of the host's network memory, by session id
    /// (<see cref="NetworkUse"/>). A computer that could not be read is left out (one stopped since the list, say); a
    /// provider that cannot measure (the default, Swarm) answers with none. Costs five small file reads per computer, and
    /// an engine inspect for one not seen before.
    /// </summary>
    /// <param name="listed">The computers as <see cref="ListAsync"/> answered just before.</param>
    /// <param name="cancellationToken">Cancels the engine calls.</param>
    Task<IReadOnlyDictionary<Guid, NetworkUse>> MeasureNetworkUseAsync(IReadOnlyList<ComputerInfo> listed, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<Guid, NetworkUse>>(new Dictionary<Guid, NetworkUse>());

    /// <summary>The id (<c>sha256:…</c>) of the configured image (<see cref="ComputerOptions.Image"/>), or null when it is missing.</summary>
    /// <param name="cancellationToken">Cancels the engine call.</param>
    Task<string?> ImageIdAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Whether the provider starts a session's computer with a one-time boot ticket in its environment
    /// (<see cref="ComputerSpec.BootTicket"/>) rather than a Host token written into its volume (<see cref="ComputerSpec.HostToken"/>):
    /// true for the single engine, whose write into a created container costs the engine ~100 ms of CPU on every start;
    /// false (the default) for the Swarm provider, which seeds the volume from a helper container anyway.
    /// </summary>
    bool BootsWithTicket => false;

    /// <summary>
    /// Attaches a running computer to the computers' network (one listed with <see cref="ComputerInfo.NetworkDetached"/>):
    /// a provider that starts computers before attaching their network does it after each start, and the reconciler for
    /// any it finds still without one. Already attached is success. The default does nothing (a provider that never
    /// detaches).
    /// </summary>
    /// <param name="computer">The computer, by its container id.</param>
    /// <param name="cancellationToken">Cancels the engine call.</param>
    Task AttachNetworkAsync(ComputerInfo computer, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Whether the engine answers; never throws for an unreachable engine.</summary>
    /// <param name="cancellationToken">Cancels the check; a cancelled check throws <see cref="OperationCanceledException"/>.</param>
    /// <returns><see langword="true"/> when the engine answered a ping.</returns>
    Task<bool> IsReachableAsync(CancellationToken cancellationToken);
}

/// <summary>What a session's computer receives when it starts.</summary>
/// <param name="SessionId">The session; names the container and volume (<c>raworc-session-&lt;id&gt;</c>).</param>
/// <param name="Secrets">Name → value. Each becomes an environment variable and the file
/// <c>/session/secrets/&lt;NAME&gt;</c> (mode 0600, owned by the user <c>raworc</c>). Names match
/// <c>[A-Za-z_][A-Za-z0-9_]*</c>. Values never appear in a log line or an exception message.</param>
/// <param name="Instructions">Written to <c>/session/code/instructions.md</c> (UTF-8) on a new volume; <see langword="null"/> writes no file.</param>
/// <param name="Setup">Written to <c>/session/code/setup.sh</c> (UTF-8, mode 0755) on a new volume; run at every
/// container start (see <c>eng/images/host-agent/raworc-entry.sh</c>); <see langword="null"/> writes no file.</param>
/// <param name="Environment">Extra variables filled by the caller: API address, Host token, model settings.
/// They override secrets of the same name; <c>RAWORC_SESSION_ID</c> and <c>RAWORC_SETUP_TIMEOUT</c> are set by the provider.</param>
/// <param name="HostToken">The Host token of this start. Never put in the environment (every process of the computer
/// could read it there): it is written to <see cref="HostTokenPath"/> (mode 0400), which the agent reads and deletes
/// before any of the session's code runs; <c>RAWORC_HOST_TOKEN_FILE</c> names the file.</param>
/// <param name="Desktop">The computer runs a desktop: <see cref="ComputerOptions.DesktopImage"/> instead of
/// <see cref="ComputerOptions.Image"/>, <see cref="ComputerOptions.DesktopMemoryMiB"/> of memory, and <c>DISPLAY</c> and
/// <c>RAWORC_DESKTOP_SIZE</c> (<see cref="ComputerOptions.DesktopWidth"/>×<see cref="ComputerOptions.DesktopHeight"/>) set.</param>
public sealed record ComputerSpec(
    Guid SessionId,
    IReadOnlyDictionary<string, string> Secrets,
    string? Instructions,
    string? Setup,
    IReadOnlyDictionary<string, string> Environment,
    string? HostToken = null,
    bool Desktop = false)
{
    /// <summary>Where the Host token of a start waits for the agent, relative to <c>/session</c>.</summary>
    public const string HostTokenPath = ".raworc/host-token";

    /// <summary>Where a warm-pool computer's pool token waits for the agent, relative to <c>/session</c>.</summary>
    public const string PoolTokenPath = ".raworc/pool-token";

    /// <summary>
    /// For a warm-pool computer (see <see cref="WarmPool"/>): the pool token, which only lets the agent wait for its claim.
    /// Written like the Host token, to <see cref="PoolTokenPath"/> (mode 0400), named by <c>RAWORC_POOL_TOKEN_FILE</c>; the
    /// spec then holds no secret, instructions or setup, and the computer is labelled <c>raworc.pooled=true</c>.
    /// </summary>
    public string? PoolToken { get; init; }

    /// <summary>
    /// For a computer started for its session by a provider that <see cref="IComputerProvider.BootsWithTicket"/>: the
    /// one-time boot ticket of this start (43 base64url characters, 256 random bits), put in the environment as
    /// <c>RAWORC_BOOT_TICKET</c> instead of writing any file into the computer. The agent exchanges it over the API
    /// (<c>POST /api/v0/boot</c>) for the Host token and, on a new volume, the seed files, before any of the session's code
    /// runs; the spec then carries no <see cref="HostToken"/>. See README, "How a computer gets its Host token".
    /// </summary>
    public string? BootTicket { get; init; }

    /// <summary>
    /// With a <see cref="BootTicket"/>: the session's volume may exist and still never have been seeded, because no agent of
    /// the session ever reported ready (the first computer died, or the API was out of reach, before its exchange; the
    /// exchange's answer was lost), so the seed files are asked for (<c>RAWORC_SEED_VOLUME=true</c>) even when the volume is
    /// not new. Never for a remix, whose volume holds the parent's copy.
    /// </summary>
    public bool SeedExistingVolume { get; init; }
}

/// <summary>Which folders of a parent's volume a remix copies; <c>logs/</c> never is.</summary>
/// <param name="Data">Copy <c>/session/data</c>.</param>
/// <param name="Code">Copy <c>/session/code</c> (instructions.md, setup.sh and the rest).</param>
/// <param name="Secrets">Copy <c>/session/secrets</c>.</param>
public sealed record CopyParts(bool Data, bool Code, bool Secrets);

/// <summary>A started computer.</summary>
/// <param name="ContainerId">The engine's container id (64 hex digits on Docker).</param>
/// <param name="VolumeName">The volume mounted at <c>/session</c>.</param>
public sealed record ComputerHandle(string ContainerId, string VolumeName);

/// <summary>A managed computer as the engine reports it.</summary>
/// <param name="SessionId">The session, from the container's <c>raworc.session-id</c> label.</param>
/// <param name="ContainerId">The engine's container id.</param>
/// <param name="State">Whether it runs.</param>
/// <param name="ExitCode">The main process's exit status when <see cref="ComputerState.Exited"/>, else <see langword="null"/>.</param>
/// <param name="ImageId">The id of the image the container runs (<c>sha256:…</c>), when the engine says.</param>
/// <param name="OutOfMemory">When <see cref="ComputerState.Exited"/>: the engine saw the container's memory limit kill a
/// process of it (Docker's <c>State.OOMKilled</c>; under gVisor the whole sandbox). Always false on Swarm, whose tasks do not say.</param>
/// <param name="NetworkDetached">Running, but not (yet) on the computers' network although its egress is on: the single
/// engine starts computers first and attaches them right after (<see cref="IComputerProvider.AttachNetworkAsync"/>).</param>
public sealed record ComputerInfo(Guid SessionId, string ContainerId, ComputerState State, int? ExitCode, string? ImageId = null,
    bool OutOfMemory = false, bool NetworkDetached = false);

/// <summary>The coarse state of a computer's container.</summary>
public enum ComputerState
{
    /// <summary>Created but never started (a create that failed half-way).</summary>
    Created,

    /// <summary>Running (also paused or restarting).</summary>
    Running,

    /// <summary>Its main process ended (Docker's <c>exited</c> or <c>dead</c>).</summary>
    Exited,
}

/// <summary>
/// A computer failure whose <see cref="Exception.Message"/> is written for users: a whole sentence that names what is
/// wrong and what to do, and nothing secret. It becomes the session's <c>error</c> as it is, and is quoted in log lines
/// (<see cref="FailureText"/>), where every other failure is described in Raworc's own words.
/// </summary>
public interface IComputerErrorForUsers;

/// <summary>
/// A remix's copy of its parent's folders failed for a reason of that session, not of the engine: the parent's volume is
/// gone, the child's already exists, the copy exited non-zero or ran past <see cref="ComputerOptions.CopyTimeoutSeconds"/>.
/// Retrying cannot help; the message is meant for the session's owner (it becomes the session's <c>error</c>).
/// </summary>
/// <param name="message">What went wrong, in the user's words.</param>
public sealed class ComputerCopyFailedException(string message) : Exception(message), IComputerErrorForUsers;

/// <summary>The configured computer image does not exist on the engine (it is never pulled).</summary>
/// <param name="image">The image reference, e.g. <c>raworc/host-agent:latest</c>.</param>
public sealed class ComputerImageNotFoundException(string image)
    : Exception($"The computer image '{image}' does not exist on the Docker engine; build it with eng/host-agent-image.sh or set Computers:Image."), IComputerErrorForUsers
{
    /// <summary>The image reference that was asked for.</summary>
    public string Image { get; } = image;
}

/// <summary>
/// The configured OCI runtime (<see cref="ComputerOptions.Runtime"/>) is not registered with the Docker engine, which
/// refuses the container create with a 400 naming it (engine 20.10: "Unknown runtime specified runsc").
/// </summary>
/// <param name="runtime">The runtime name, e.g. <c>runsc</c>.</param>
public sealed class ComputerRuntimeNotFoundException(string runtime)
    : Exception($"The container runtime '{runtime}' is not registered with the Docker engine; run eng/gvisor.sh for runsc, or set Computers:Runtime to a runtime that `docker info` lists."), IComputerErrorForUsers
{
    /// <summary>The runtime name that was asked for.</summary>
    public string Runtime { get; } = runtime;
}

/// <summary>One volume's count by <see cref="IComputerProvider.CountVolumesAsync"/>.</summary>
/// <param name="Inodes">Files, folders and links, each counted once however many hard links it has; -1 when the walk did
/// not finish in time.</param>
/// <param name="Bytes">Bytes of the disk blocks they take (not their apparent sizes: folders count, and a sparse file
/// counts what it really takes); -1 when the walk did not finish in time.</param>
public sealed record VolumeCount(long Inodes, long Bytes);

/// <summary>What one computer holds of the host's network memory.</summary>
/// <param name="TcpBytes">Its socket buffers as its memory cgroup counts them (cgroup v1's
/// <c>memory.kmem.tcp.usage_in_bytes</c>: TCP, and UDP on recent kernels, what the kernel granted past the bound included;
/// not the data of connections no process has accepted yet, which no cgroup is charged for).</param>
/// <param name="TcpSockets">TCP sockets in its network namespace (<c>/proc/&lt;pid&gt;/net/sockstat</c> and
/// <c>sockstat6</c>, "inuse"), connections waiting to be accepted included.</param>
/// <param name="TrackedConnections">Entries of its network namespace's own connection-tracking table
/// (<c>/proc/&lt;pid&gt;/net/stat/nf_conntrack</c>, "entries"; 0 without one), kernel memory no cgroup is charged for.</param>
public sealed record NetworkUse(long TcpBytes, long TcpSockets, long TrackedConnections);
