using System.Globalization;

namespace Raworc.Benchmarks;

/// <summary>
/// Where the machine's CPU went during a window, from <c>/proc</c>: each process's user+system time, grouped by
/// command name, and the machine's busy, idle and steal time. A trace-free answer to "where does the time go".
/// </summary>
internal sealed class CpuSampler
{
    private readonly Dictionary<int, (string Name, long Ticks)> _processes;
    private readonly long[] _machine;

    private CpuSampler(Dictionary<int, (string Name, long Ticks)> processes, long[] machine) => (_processes, _machine) = (processes, machine);

    public static CpuSampler Start() => new(ReadProcesses(), ReadMachine());

    /// <summary>The top consumers since <see cref="Start"/>, in cores (1.0 = one core busy for the whole window).</summary>
    public string Stop(double seconds, int top = 4)
    {
        var processes = ReadProcesses();
        var machine = ReadMachine();
        const double ticksPerSecond = 100; // USER_HZ on Linux
        var used = processes
            .Select(p => (p.Value.Name, Ticks: p.Value.Ticks - (_processes.TryGetValue(p.Key, out var before) && before.Name == p.Value.Name ? before.Ticks : 0)))
            .GroupBy(p => p.Name)
            .Select(g => (Name: g.Key, Cores: g.Sum(p => p.Ticks) / ticksPerSecond / seconds))
            .OrderByDescending(g => g.Cores)
            .Take(top);
        var delta = machine.Zip(_machine, (after, before) => after - before).ToArray();
        var total = (double)delta.Sum();
        // /proc/stat cpu line: user nice system idle iowait irq softirq steal …
        var idle = total > 0 ? (delta[3] + delta[4]) / total : double.NaN;
        var steal = total > 0 && delta.Length > 7 ? delta[7] / total : double.NaN;
        return string.Create(CultureInfo.InvariantCulture,
            $"CPU {100 - idle * 100:0}% busy, {steal * 100:0}% steal, load average {Machine.LoadAverage()}; by process (cores): {string.Join(", ", used.Select(u => $"{u.Name} {u.Cores:0.00}"))}");
    }

    private static long[] ReadMachine() =>
        [.. File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture))];

    private static Dictionary<int, (string Name, long Ticks)> ReadProcesses()
    {
        var result = new Dictionary<int, (string, long)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // "pid (comm) state ppid …": the name may contain spaces, so split after the last ')'.
                var name = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                result[pid] = (name, long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
                // The process ended while it was being read.
            }
        }
        return result;
    }
}
