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
            await File.WriteAllTextAsync(Path.Combine(cgroup, TcpLimitFile),
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
    /// Each computer's memory cgroup is found once (its pid, then <c>/proc/&lt;pid&gt;/cgroup</c>) and kept by container id
    /// until the container is gone; a computer started before this API process is found at its first measurement.
    /// </remarks>
    public async Task<IReadOnlyDictionary<Guid, long>> MeasureTcpMemoryAsync(CancellationToken cancellationToken)
    {
        var used = new Dictionary<Guid, long>();
        if (!BoundsTcpMemory(options.Value))
        {
            return used;
        }
        var running = (await ListAsync(cancellationToken)).Where(c => c.State == ComputerState.Running).ToList();
        foreach (var gone in _memoryCgroups.Keys.Except(running.Select(c => c.ContainerId)))
        {
            _memoryCgroups.TryRemove(gone, out _);
        }
        foreach (var computer in running)
        {
            try
            {
                if (await MemoryCgroupAsync(computer.ContainerId, cancellationToken) is { } cgroup
                    && long.TryParse(await File.ReadAllTextAsync(Path.Combine(cgroup, TcpUsageFile), cancellationToken),
                        NumberStyles.None | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var bytes))
                {
                    used[computer.SessionId] = bytes;
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or DockerContainerNotFoundException)
            {
                // Stopped or removed since the list: nothing left to measure.
                _memoryCgroups.TryRemove(computer.ContainerId, out _);
            }
        }
        return used;
    }

    /// <summary>Memory cgroup folders of running computers, by container id (<see cref="MemoryCgroupAsync"/>).</summary>
    private readonly ConcurrentDictionary<string, string> _memoryCgroups = new(StringComparer.Ordinal);

    /// <summary>
    /// The folder of the container's cgroup v1 memory cgroup on the host, or null when its process names none (cgroup v2).
    /// </summary>
    /// <exception cref="IOException">The container's process is gone.</exception>
    private async Task<string?> MemoryCgroupAsync(string containerId, CancellationToken cancellationToken)
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
        return _memoryCgroups[containerId] = cgroup;
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
