using System.Diagnostics;
using System.Globalization;
using Docker.DotNet;
using Docker.DotNet.Models;
using Raworc.ApiService.Computers;

namespace Raworc.Benchmarks;

/// <summary>One floor: how long the engine takes to create, start, wait for and remove a container that runs <c>true</c>.</summary>
/// <param name="Label">Short name printed in the floor column.</param>
/// <param name="Seconds">One sample per measured round (the warm-up is not in it).</param>
/// <param name="Error">Why the floor was not measured, or null.</param>
internal sealed record Floor(string Label, List<double> Seconds, string? Error)
{
    public bool Measured => Error is null && Seconds.Count > 0;

    public double P50 => Measured ? Stats.P50(Seconds) : double.NaN;
}

/// <summary>The three floors of one run, measured round by round so that the machine's load weighs on each alike.</summary>
/// <param name="Bare">(a) the agent image with nothing but its entrypoint replaced by <c>true</c>.</param>
/// <param name="Hardened">(b) the same with every engine setting a computer gets.</param>
/// <param name="Runsc">(b) under gVisor's <c>runsc</c>; its error says so when the engine has no such runtime.</param>
internal sealed record FloorSet(Floor Bare, Floor Hardened, Floor Runsc);

/// <summary>
/// The floors the lifecycle figures are compared with, measured in the same run (issues 11 and 14): a bare
/// <c>docker run --rm &lt;agent image&gt; true</c>, and the same with the computers' hardening; their difference is
/// what the isolation costs the engine, without our agent.
/// </summary>
/// <remarks>
/// Through Docker.DotNet, the client the API creates computers with (not the <c>docker</c> CLI): each sample is
/// create → start → wait → remove, the engine calls <c>docker run --rm</c> makes, without the CLI's own process start
/// (some 30–60 ms that the API never pays either).
/// </remarks>
internal static class Floors
{
    public const string BareName = "floor (a): bare `docker run --rm` of the agent image, `true`";
    public const string HardenedName = "floor (b): (a) with every hardening setting of a computer";
    public const string RunscName = "floor (b) under `--runtime runsc` (gVisor)";
    public const string IsolationName = "isolation cost on create → `idle` (runc): (b − a) ÷ create → `idle` p50";
    public const string IsolationTarget = "≤ 10 %";

    /// <summary>The registered name of gVisor's runtime.</summary>
    private const string RunscRuntime = "runsc";

    /// <summary>
    /// One warm-up round, then <paramref name="rounds"/> measured rounds; each round runs (a), (b) and, when the engine
    /// has <c>runsc</c>, (b) under it, one after another. A variant that fails is not tried again.
    /// </summary>
    public static async Task<FloorSet> MeasureAsync(DockerClient docker, string image, int rounds, CancellationToken cancellationToken)
    {
        var info = await docker.System.GetSystemInfoAsync(cancellationToken);
        var hasRunsc = info.Runtimes?.ContainsKey(RunscRuntime) == true;
        var bare = new Floor("bare", [], null);
        var hardened = new Floor("hardened", [], null);
        var runsc = new Floor("hardened, runsc", [], hasRunsc ? null : "runsc not registered (eng/gvisor.sh)");
        var variants = new List<(Floor Floor, Func<CreateContainerParameters> Parameters)>
        {
            (bare, () => BareParameters(image)),
            (hardened, () => HardenedParameters(image, runtime: null)),
            (runsc, () => HardenedParameters(image, RunscRuntime)),
        };
        for (var round = 0; round <= rounds; round++)
        {
            for (var v = 0; v < variants.Count; v++)
            {
                var (floor, parameters) = variants[v];
                if (floor.Error is not null)
                {
                    continue;
                }
                try
                {
                    var seconds = await RunOnceAsync(docker, parameters(), cancellationToken);
                    if (round > 0)
                    {
                        floor.Seconds.Add(seconds);
                    }
                }
                catch (Exception ex) when (ex is DockerApiException or BenchmarkException)
                {
                    variants[v] = (floor with { Error = ex.Message.ReplaceLineEndings(" ").Trim() }, parameters);
                }
            }
        }
        return new FloorSet(variants[0].Floor, variants[1].Floor, variants[2].Floor);
    }

    /// <summary>The floor rows of the table, and the share of create → idle that the isolation costs.</summary>
    public static IEnumerable<Figure> Rows(FloorSet floors, Figure? create)
    {
        yield return Row(BareName, floors.Bare,
            "agent image with entrypoint `true`, default bridge, no limits; Docker.DotNet create → start → wait → remove; one warm-up round, rounds interleaved with (b)");
        var settings = new ComputerOptions();
        yield return Row(HardenedName, floors.Hardened,
            string.Create(CultureInfo.InvariantCulture,
                $"the computers' own HostConfig: network {settings.Network} (icc off), cap-drop ALL, no-new-privileges, pids {settings.PidsLimit}, ") +
            string.Create(CultureInfo.InvariantCulture,
                $"nofile {settings.OpenFilesLimit}, read-only root + tmpfs /tmp and home, Docker's init, user {DockerComputerProvider.ContainerUser}, ") +
            string.Create(CultureInfo.InvariantCulture,
                $"json-file 3 × {settings.LogMaxMiB} MiB, {settings.Cpus} CPU, {settings.MemoryMiB} MiB; no session volume, no socket mount") +
            (floors.Bare.Measured && floors.Hardened.Measured ? $"; (b − a) p50 {Stats.Millis(floors.Hardened.P50 - floors.Bare.P50)}" : ""));
        yield return Row(RunscName, floors.Runsc,
            floors.Runsc.Measured && floors.Hardened.Measured
                ? $"same settings as (b); runsc − runc p50 {Stats.Millis(floors.Runsc.P50 - floors.Hardened.P50)}"
                : "same settings as (b)");
        yield return Isolation(floors, create);
    }

    /// <summary>Fills the floor and ratio columns of a lifecycle figure (create or restore → idle) from the runc floors.</summary>
    /// <summary>The most a start may take, as a multiple of the bare floor's p50 (issue 14, goal 1).</summary>
    public const double StartRatioTarget = 1.5;

    public static Figure Compare(Figure figure, FloorSet floors)
    {
        if (!double.IsFinite(figure.P50Seconds))
        {
            return figure;
        }
        var measured = new[] { floors.Bare, floors.Hardened }.Where(f => f.Measured).ToList();
        if (measured.Count == 0)
        {
            return figure with { Floor = "not measured" };
        }
        return figure with
        {
            Floor = string.Join(", ", measured.Select(f => $"{Stats.Seconds(f.P50)} {f.Label}")),
            Ratio = string.Join(", ", measured.Select(f => string.Create(CultureInfo.InvariantCulture, $"{figure.P50Seconds / f.P50:0.0}× {f.Label}"))),
            Met = floors.Bare.Measured ? figure.P50Seconds <= StartRatioTarget * floors.Bare.P50 : null,
        };
    }

    private static Figure Row(string name, Floor floor, string note) => floor.Measured
        ? new Figure(name, "—", Stats.Millis(floor.P50), Stats.Millis(Stats.P95(floor.Seconds)), floor.Seconds.Count, null, note) { P50Seconds = floor.P50 }
        : Figure.NotMeasured(name, "—", floor.Error ?? "no sample");

    private static Figure Isolation(FloorSet floors, Figure? create)
    {
        if (!floors.Bare.Measured || !floors.Hardened.Measured)
        {
            return Figure.NotMeasured(IsolationName, IsolationTarget, "a runc floor was not measured");
        }
        if (create is null || !double.IsFinite(create.P50Seconds))
        {
            return Figure.NotMeasured(IsolationName, IsolationTarget, "create → idle was not measured");
        }
        var cost = floors.Hardened.P50 - floors.Bare.P50;
        var share = cost / create.P50Seconds;
        return new Figure(IsolationName, IsolationTarget, string.Create(CultureInfo.InvariantCulture, $"{share * 100:0.0} %"), "—",
            floors.Hardened.Seconds.Count, share <= 0.10,
            $"(b − a) = {Stats.Millis(floors.Hardened.P50)} − {Stats.Millis(floors.Bare.P50)} = {Stats.Millis(cost)} of create → idle p50 " +
            $"{Stats.Seconds(create.P50Seconds)}; medians of the floors above");
    }

    /// <summary>(a): what <c>docker run --rm --entrypoint true &lt;image&gt;</c> asks of the engine, on the default bridge.</summary>
    private static CreateContainerParameters BareParameters(string image) => new()
    {
        Name = NewName(),
        Image = image,
        Entrypoint = ["true"],
        Cmd = [],
    };

    /// <summary>
    /// (b): the computers' own <see cref="DockerComputerProvider.HardenedHostConfig"/> with the API's default settings
    /// (those the benchmark's API runs with) and the computers' user; only the mounts are left out (the session volume
    /// and the socket folder are not isolation).
    /// </summary>
    private static CreateContainerParameters HardenedParameters(string image, string? runtime)
    {
        var name = NewName();
        var host = DockerComputerProvider.HardenedHostConfig(name, new ComputerOptions());
        host.Mounts = [];
        host.Runtime = runtime;
        return new CreateContainerParameters
        {
            Name = name,
            Image = image,
            User = DockerComputerProvider.ContainerUser,
            Entrypoint = ["true"],
            Cmd = [],
            HostConfig = host,
        };
    }

    private static string NewName() => $"raworc-bench-floor-{Guid.NewGuid():N}";

    /// <summary>Create → start → wait for exit → remove, timed end to end; the container is removed whatever happens.</summary>
    private static async Task<double> RunOnceAsync(DockerClient docker, CreateContainerParameters parameters, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var removed = false;
        try
        {
            await docker.Containers.CreateContainerAsync(parameters, cancellationToken);
            await docker.Containers.StartContainerAsync(parameters.Name, new ContainerStartParameters(), cancellationToken);
            var exit = await docker.Containers.WaitContainerAsync(parameters.Name, cancellationToken);
            await docker.Containers.RemoveContainerAsync(parameters.Name, new ContainerRemoveParameters(), cancellationToken);
            removed = true;
            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            return exit.StatusCode == 0 ? elapsed : throw new BenchmarkException($"`true` exited with {exit.StatusCode}");
        }
        finally
        {
            if (!removed)
            {
                try
                {
                    await docker.Containers.RemoveContainerAsync(parameters.Name, new ContainerRemoveParameters { Force = true }, CancellationToken.None);
                }
                catch (DockerContainerNotFoundException)
                {
                    // Never created.
                }
            }
        }
    }
}
