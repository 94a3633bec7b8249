using System.Globalization;
using System.Runtime.InteropServices;
using Docker.DotNet;

namespace Raworc.Benchmarks;

/// <summary>The header line: what machine the figures come from.</summary>
internal static class Machine
{
    public static async Task<string> DescribeAsync(DockerClient docker, CancellationToken cancellationToken)
    {
        var cpu = ReadField("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        var memKiB = ReadField("/proc/meminfo", "MemTotal") is { } total ? double.Parse(total.Split(' ')[0], CultureInfo.InvariantCulture) : double.NaN;
        var os = ReadField("/etc/os-release", "PRETTY_NAME", '=')?.Trim('"') ?? RuntimeInformation.OSDescription;
        string engine;
        try
        {
            var version = await docker.System.GetVersionAsync(cancellationToken);
            engine = $"{version.Version} (API {version.APIVersion})";
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            engine = $"unknown ({ex.GetType().Name})";
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"{Environment.ProcessorCount} cores ({cpu}), {memKiB / (1024 * 1024):0.0} GiB memory, {os}, kernel {Environment.OSVersion.Version}, " +
            $"{RuntimeInformation.FrameworkDescription}, Docker engine {engine}; load average at start {LoadAverage()}");
    }

    /// <summary>The 1/5/15-minute load averages: other work on the machine shows up here.</summary>
    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static string? ReadField(string path, string name, char separator = ':')
    {
        if (!File.Exists(path))
        {
            return null;
        }
        return File.ReadLines(path)
            .Select(line => line.Split(separator, 2))
            .Where(parts => parts.Length == 2 && parts[0].Trim() == name)
            .Select(parts => parts[1].Trim())
            .FirstOrDefault();
    }
}
