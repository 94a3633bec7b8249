using System.Globalization;

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
        if (settings.TcpMemoryMiB <= 0 || !ComputerNetwork.ManagesHost(settings)
            || !Directory.Exists(CgroupV1Memory))
        {
            return;
        }
        var pid = (await docker.Containers.InspectContainerAsync(containerId, cancellationToken)).State.Pid;
        try
        {
            if (TcpMemoryLimitPath(await File.ReadAllLinesAsync($"/proc/{pid}/cgroup", cancellationToken)) is not { } path)
            {
                return;
            }
            await File.WriteAllTextAsync(path, (settings.TcpMemoryMiB * 1024L * 1024L).ToString(CultureInfo.InvariantCulture), cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            if (Interlocked.Exchange(ref _tcpMemoryWarned, 1) == 0)
            {
                LogTcpMemoryNotLimited(sessionId, exception is UnauthorizedAccessException ? "the kernel refused the write" : "the computer's memory cgroup was not found");
            }
        }
    }

    /// <summary>Where cgroup v1's memory controller is mounted on the host.</summary>
    private const string CgroupV1Memory = "/sys/fs/cgroup/memory";

    /// <summary>
    /// The TCP limit file of the memory cgroup named in <paramref name="cgroupLines"/> (<c>/proc/&lt;pid&gt;/cgroup</c>,
    /// lines <c>id:controllers:path</c>, cgroups(7)), or null when no line names the memory controller (cgroup v2).
    /// </summary>
    internal static string? TcpMemoryLimitPath(IEnumerable<string> cgroupLines) =>
        cgroupLines.Select(line => line.Split(':', 3)).Where(fields => fields.Length == 3 && fields[1].Split(',').Contains("memory"))
            .Select(fields => $"{CgroupV1Memory}{fields[2].TrimEnd('/')}/memory.kmem.tcp.limit_in_bytes").FirstOrDefault();

    [LoggerMessage(LogLevel.Warning, "The TCP buffers of computers are not bounded (Computers:TcpMemoryMiB), first seen at session {SessionId}: {Reason}")]
    private partial void LogTcpMemoryNotLimited(Guid sessionId, string reason);
}
