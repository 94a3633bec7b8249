using System.Collections.Concurrent;
using System.Globalization;
using Docker.DotNet;

namespace Raworc.ApiService.Computers;

public sealed partial class DockerComputerProvider
{
    private int _tcpMemoryWarned;

    /// <summary>
    /// Bounds the TCP buffers of a started computer at <see cref="ComputerOptions.TcpMemoryMiB"/>: writes
    /// <c>memory.kmem.tcp.limit_in_bytes</c> in the container's memory cgroup (cgroup v1). Under cgroup v1 a container's
    /// memory limit does not count its TCP buffers until that file is set, so without it one computer held 1,026 MiB of
    /// queued loopback TCP data while its 512 MiB limit moved by 1 MiB (a break-out attempt, 2026-12-04): memory taken
    /// from the host, and from the kernel's TCP budget (<c>net.ipv4.tcp_mem</c>) that every socket on the host, the API's
    /// to Postgres and Redis too, draws on. Past the limit a computer's sends wait or fail (<c>EAGAIN</c>) as on a host
    /// short of TCP memory. Docker's own <c>KernelMemoryTCP</c> setting is accepted by engine 20.10 and not applied (the
    /// file stayed unlimited), so the API writes it. Only where the API manages the engine's host (root, local engine,
    /// Linux), under <c>runc</c> and <c>runsc</c> alike (the gVisor runtime as <c>eng/gvisor.sh</c> registers it uses the
    /// host's network stack, <c>--network=host</c>, so its sockets' buffers are the host kernel's too: measured, 228 MiB
    /// without the bound); not under cgroup v2, which counts socket memory in the container's limit by itself. Called
    /// right after the start, before the agent can run the session's code; a failure is logged once and the computer goes
    /// on.
    /// </summary>
    private async Task LimitTcpMemoryAsync(Guid sessionId, string containerId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!BoundsTcpMemory(settings))
        {
            return;
        }
        try
        {
            if (await MemoryCgroupAsync(containerId, cancellationToken) is not { } cgroup)
            {
                return;
            }
            await File.WriteAllTextAsync(Path.Combine(cgroup.Cgroup, TcpLimitFile),
                (settings.TcpMemoryMiB * 1024L * 1024L).ToString(CultureInfo.InvariantCulture), cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            if (Interlocked.Exchange(ref _tcpMemoryWarned, 1) == 0)
            {
                LogTcpMemoryNotLimited(sessionId, exception is UnauthorizedAccessException ? "the kernel refused the write" : "the computer's memory cgroup was not found");
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Each computer's memory cgroup and process are found once (its pid, then <c>/proc/&lt;pid&gt;/cgroup</c>) and kept
    /// by container id until the container is gone; a computer started before this API process is found at its first
    /// measurement. The namespace's files are read through the computer's first process (under gVisor the sandbox, which
    /// here uses the host's network stack in the computer's namespace).
    /// </remarks>
    public async Task<IReadOnlyDictionary<Guid, NetworkUse>> MeasureNetworkUseAsync(IReadOnlyList<ComputerInfo> listed, CancellationToken cancellationToken)
    {
        var used = new Dictionary<Guid, NetworkUse>();
        if (!ComputerNetwork.ManagesHost(options.Value) || !Directory.Exists(CgroupV1Memory))
        {
            return used;
        }
        var running = listed.Where(c => c.State == ComputerState.Running).ToList();
        foreach (var gone in _memoryCgroups.Keys.Except(running.Select(c => c.ContainerId)))
        {
            _memoryCgroups.TryRemove(gone, out _);
        }
        foreach (var computer in running)
        {
            try
            {
                if (await MemoryCgroupAsync(computer.ContainerId, cancellationToken) is not { } found)
                {
                    continue;
                }
                var bytes = ParseCount(await File.ReadAllTextAsync(Path.Combine(found.Cgroup, TcpUsageFile), cancellationToken));
                var net = $"/proc/{found.Pid}/net";
                var sockets = TcpSocketsInUse(await File.ReadAllLinesAsync($"{net}/sockstat", cancellationToken))
                    + TcpSocketsInUse(File.Exists($"{net}/sockstat6") ? await File.ReadAllLinesAsync($"{net}/sockstat6", cancellationToken) : []);
                var tracked = File.Exists($"{net}/stat/nf_conntrack")
                    ? TrackedEntries(await File.ReadAllLinesAsync($"{net}/stat/nf_conntrack", cancellationToken)) : 0;
                // Checked after the reads: a pid reused since the computer stopped would have named another's namespace.
                if (MemoryCgroupPath(await File.ReadAllLinesAsync($"/proc/{found.Pid}/cgroup", cancellationToken)) != found.Cgroup)
                {
                    _memoryCgroups.TryRemove(computer.ContainerId, out _);
                    continue;
                }
                used[computer.SessionId] = new NetworkUse(bytes, sockets, tracked);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or DockerContainerNotFoundException)
            {
                // Stopped or removed since the list: nothing left to measure.
                _memoryCgroups.TryRemove(computer.ContainerId, out _);
            }
        }
        return used;
    }

    /// <summary>A count the kernel wrote as a decimal number and a line end; 0 when it is not one.</summary>
    private static long ParseCount(string text) =>
        long.TryParse(text, NumberStyles.None | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var count) ? count : 0;

    /// <summary>
    /// The TCP sockets in use in a network namespace, from the lines of its <c>sockstat</c> or <c>sockstat6</c>
    /// (<c>TCP: inuse 12 orphan 0 tw 3 alloc 15 mem 4</c>, <c>TCP6: inuse 2</c>; "inuse" counts that namespace's sockets,
    /// the other figures the whole host's); 0 when no line says.
    /// </summary>
    internal static long TcpSocketsInUse(IEnumerable<string> lines) =>
        lines.Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 3 && fields[0] is "TCP:" or "TCP6:" && fields[1] == "inuse")
            .Select(fields => long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0).Sum();

    /// <summary>
    /// The entries of a network namespace's connection-tracking table, from the lines of its <c>stat/nf_conntrack</c>: a
    /// header, then one line per CPU whose first field, in hexadecimal, is the namespace's entry count (the same on every
    /// line); 0 when there is no such line.
    /// </summary>
    internal static long TrackedEntries(IReadOnlyList<string> lines) =>
        lines.Skip(1).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(fields => fields.Length > 0 && long.TryParse(fields[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var n) ? n : 0)
            .FirstOrDefault();

    /// <summary>Memory cgroup folders and first processes of running computers, by container id (<see cref="MemoryCgroupAsync"/>).</summary>
    private readonly ConcurrentDictionary<string, (string Cgroup, long Pid)> _memoryCgroups = new(StringComparer.Ordinal);

    /// <summary>
    /// The folder of the container's cgroup v1 memory cgroup on the host and the container's first process, or null when
    /// that process names no memory cgroup (cgroup v2).
    /// </summary>
    /// <exception cref="IOException">The container's process is gone.</exception>
    private async Task<(string Cgroup, long Pid)?> MemoryCgroupAsync(string containerId, CancellationToken cancellationToken)
    {
        if (_memoryCgroups.TryGetValue(containerId, out var known))
        {
            return known;
        }
        var pid = (await docker.Containers.InspectContainerAsync(containerId, cancellationToken)).State.Pid;
        if (pid <= 0 || MemoryCgroupPath(await File.ReadAllLinesAsync($"/proc/{pid}/cgroup", cancellationToken)) is not { } cgroup)
        {
            return null;
        }
        return _memoryCgroups[containerId] = (cgroup, pid);
    }

    /// <summary>Whether computers get a TCP bound here: one is set, the API manages the engine's host, and it has cgroup v1.</summary>
    private static bool BoundsTcpMemory(ComputerOptions settings) =>
        settings.TcpMemoryMiB > 0 && ComputerNetwork.ManagesHost(settings) && Directory.Exists(CgroupV1Memory);

    /// <summary>Where cgroup v1's memory controller is mounted on the host.</summary>
    private const string CgroupV1Memory = "/sys/fs/cgroup/memory";

    /// <summary>The memory cgroup's file of its TCP bound, bytes (the kernel's <c>memcontrol</c> documentation, cgroup v1).</summary>
    internal const string TcpLimitFile = "memory.kmem.tcp.limit_in_bytes";

    /// <summary>The memory cgroup's file of the TCP buffers it holds now, bytes, what the kernel forced past the bound included.</summary>
    internal const string TcpUsageFile = "memory.kmem.tcp.usage_in_bytes";

    /// <summary>
    /// The folder of the memory cgroup named in <paramref name="cgroupLines"/> (<c>/proc/&lt;pid&gt;/cgroup</c>, lines
    /// <c>id:controllers:path</c>, cgroups(7)), or null when no line names the memory controller (cgroup v2).
    /// </summary>
    internal static string? MemoryCgroupPath(IEnumerable<string> cgroupLines) =>
        cgroupLines.Select(line => line.Split(':', 3)).Where(fields => fields.Length == 3 && fields[1].Split(',').Contains("memory"))
            .Select(fields => $"{CgroupV1Memory}{fields[2].TrimEnd('/')}").FirstOrDefault();

    [LoggerMessage(LogLevel.Warning, "The TCP buffers of computers are not bounded (Computers:TcpMemoryMiB), first seen at session {SessionId}: {Reason}")]
    private partial void LogTcpMemoryNotLimited(Guid sessionId, string reason);
}
