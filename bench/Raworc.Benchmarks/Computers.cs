using System.Globalization;
using Docker.DotNet;
using Raworc.ApiService.Computers;
using Raworc.Tests.Infrastructure;

namespace Raworc.Benchmarks;

/// <summary>When a session's container was created and started, by the engine's clock (the same host clock as the API's).</summary>
internal sealed record ContainerTimes(DateTimeOffset Created, DateTimeOffset Started);

/// <summary>Memory of one session's computer, bytes.</summary>
/// <param name="AgentRss">Resident set of the Host agent process(es).</param>
/// <param name="Container">The container's cgroup usage minus inactive file cache (what <c>docker stats</c> shows).</param>
internal sealed record ComputerMemory(double AgentRss, double Container);

/// <summary>What the benchmarks read from the Docker engine and from inside computers.</summary>
internal static class Computers
{
    // Run inside the computer: the RSS of every process by name, then the container's own cgroup (v2) counters.
    private const string MemoryScript = """
        for f in /proc/[0-9]*/status; do awk '/^Name:/{n=$2} /^VmRSS:/{print "rss", n, $2}' "$f" 2>/dev/null; done
        if [ -f /sys/fs/cgroup/memory.current ]; then
          echo "current $(cat /sys/fs/cgroup/memory.current)"
          awk '$1=="inactive_file"{print "inactive", $2}' /sys/fs/cgroup/memory.stat
        elif [ -f /sys/fs/cgroup/memory/memory.usage_in_bytes ]; then
          echo "current $(cat /sys/fs/cgroup/memory/memory.usage_in_bytes)"
          awk '$1=="total_inactive_file"{print "inactive", $2}' /sys/fs/cgroup/memory/memory.stat
        fi
        """;

    public static async Task<ContainerTimes> TimesAsync(DockerClient docker, Guid sessionId, CancellationToken cancellationToken)
    {
        var container = await docker.Containers.InspectContainerAsync(DockerComputerProvider.NameOf(sessionId), cancellationToken);
        var created = container.Created.Kind == DateTimeKind.Local ? container.Created.ToUniversalTime() : DateTime.SpecifyKind(container.Created, DateTimeKind.Utc);
        return new ContainerTimes(new DateTimeOffset(created), ParseEngineTime(container.State.StartedAt));
    }

    public static async Task<ComputerMemory> MemoryAsync(ComputersAppFixture fixture, Guid sessionId)
    {
        var output = await fixture.ExecAsync(sessionId, "bash", "-c", MemoryScript);
        double agentKiB = 0, current = double.NaN, inactive = 0;
        foreach (var fields in output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
        {
            switch (fields)
            {
                // The kernel cuts process names to 15 characters: raworc-host-agent is "raworc-host-age".
                case ["rss", var name, var kib] when name.StartsWith("raworc-host", StringComparison.Ordinal):
                    agentKiB += double.Parse(kib, CultureInfo.InvariantCulture);
                    break;
                case ["current", var bytes]:
                    current = double.Parse(bytes, CultureInfo.InvariantCulture);
                    break;
                case ["inactive", var bytes]:
                    inactive = double.Parse(bytes, CultureInfo.InvariantCulture);
                    break;
            }
        }
        if (agentKiB == 0)
        {
            throw new BenchmarkException($"no Host agent process found in the computer of {sessionId}: {output}");
        }
        return new ComputerMemory(agentKiB * 1024, current - inactive);
    }

    /// <summary>Parses the engine's RFC 3339 time with nanoseconds (.NET reads at most 7 fractional digits).</summary>
    private static DateTimeOffset ParseEngineTime(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot >= 0)
        {
            var end = text.IndexOfAny(['Z', '+', '-'], dot);
            var fraction = text[(dot + 1)..end];
            text = text[..(dot + 1)] + fraction[..Math.Min(7, fraction.Length)] + text[end..];
        }
        return DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
    }
}
