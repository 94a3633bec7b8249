using System.Diagnostics;
using System.Globalization;
using Raworc.Tests.Infrastructure;

namespace Raworc.Benchmarks;

/// <summary>
/// A desktop computer beside a plain one (issue 16): create → <c>idle</c>, the idle computer's memory, and both images'
/// sizes. Plain and desktop sessions are created alternately, one at a time, so both see the same load.
/// </summary>
internal static class DesktopBenchmarks
{
    public const string CreateName = "create → `idle`, desktop computer";
    public const string PlainCreateName = "create → `idle`, plain computer (same phase)";
    public const string MemoryName = "idle computer memory, desktop (whole container)";
    public const string PlainMemoryName = "idle computer memory, plain (whole container, same phase)";
    public const string ImageName = "image size, plain / desktop";
    private const string Target = "— (reported, issue 16)";

    /// <summary>
    /// Creates <paramref name="count"/> plain and <paramref name="count"/> desktop sessions alternately, times each from POST to
    /// the first GET showing <c>idle</c>, reads each idle computer's memory, deletes them, and reads the images' sizes.
    /// </summary>
    public static async Task<IReadOnlyList<Figure>> MeasureAsync(BenchContext context, int count, CancellationToken cancellationToken)
    {
        var created = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        var memory = new Dictionary<bool, List<ComputerMemory>> { [false] = [], [true] = [] };
        var sessions = new List<Guid>();
        try
        {
            for (var i = 0; i < 2 * count; i++)
            {
                var desktop = i % 2 == 1;
                var started = Stopwatch.GetTimestamp();
                var session = await context.Api.CreateAsync(BenchContext.KeepTimeoutSeconds, cancellationToken, desktop);
                sessions.Add(session.Id);
                await context.Api.WaitForStateAsync(session.Id, "idle", BenchContext.FastPoll, BenchContext.StateTimeout, cancellationToken);
                created[desktop].Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
                memory[desktop].Add(await Computers.MemoryAsync(context.Fixture, session.Id));
            }
        }
        finally
        {
            foreach (var id in sessions)
            {
                await context.Api.DeleteAsync(id, CancellationToken.None);
            }
        }

        var plainSize = (await context.Fixture.Docker.Images.InspectImageAsync(ComputersAppFixture.Image, cancellationToken)).Size;
        var desktopSize = (await context.Fixture.Docker.Images.InspectImageAsync(ComputersAppFixture.DesktopImage, cancellationToken)).Size;
        var (plainP50, desktopP50) = (Stats.P50(created[false]), Stats.P50(created[true]));
        return
        [
            new Figure(PlainCreateName, Target, Stats.Seconds(plainP50), Stats.Seconds(Stats.P95(created[false])), count, null,
                "alternating with the desktop row, one at a time") { P50Seconds = plainP50 },
            new Figure(CreateName, Target, Stats.Seconds(desktopP50), Stats.Seconds(Stats.P95(created[true])), count, null,
                string.Create(CultureInfo.InvariantCulture, $"p50 {desktopP50 - plainP50:+0.00;-0.00} s against plain: Xvfb and Openbox start before the agent reports ready"))
                { P50Seconds = desktopP50 },
            MemoryFigure(PlainMemoryName, memory[false]),
            MemoryFigure(MemoryName, memory[true]),
            new Figure(ImageName, Target, $"{plainSize / 1e6:0} MB", $"{desktopSize / 1e6:0} MB", 1, null,
                $"p50 column: {ComputersAppFixture.SourceImage}; p95 column: {ComputersAppFixture.DesktopImage} (engine's image size)"),
        ];
    }

    private static Figure MemoryFigure(string name, List<ComputerMemory> readings)
    {
        var containers = readings.Select(m => m.Container).Where(double.IsFinite).ToList();
        return new Figure(name, Target, Stats.MiB(Stats.P50(containers)), Stats.MiB(Stats.P95(containers)), containers.Count, null,
            $"read once idle (cgroup usage − inactive file, as docker stats); Host agent RSS p50 {Stats.MiB(Stats.P50([.. readings.Select(m => m.AgentRss)]))}");
    }

    /// <summary>
    /// <c>--desktop</c>: only these rows, in a system of their own (a run of a few minutes), printed as the whole run's table.
    /// </summary>
    public static async Task RunAloneAsync(TextWriter table, int count)
    {
        var started = Stopwatch.GetTimestamp();
        using var budget = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var fixture = new ComputersAppFixture();
        var figures = new List<Figure>();
        var machine = "unknown";
        try
        {
            await fixture.InitializeAsync().WaitAsync(budget.Token);
            machine = await Machine.DescribeAsync(fixture.Docker, budget.Token);
            var (name, client) = await fixture.CreateOperatorAsync("desk-bench");
            client.Dispose();
            var bearer = await fixture.LoginAsync(name, "operator-pass-1");
            using var probe = fixture.CreateApiClient();
            using var http = Load.CreateClient(probe.BaseAddress!, bearer);
            figures.AddRange(await MeasureAsync(new BenchContext(fixture, new BenchApi(http), http.BaseAddress!, bearer), count, budget.Token));
        }
        catch (Exception ex)
        {
            figures.Add(Figure.NotMeasured(CreateName, Target, ex.Message));
        }
        finally
        {
            await fixture.DisposeAsync();
        }
        Report.Print(table, machine, Stopwatch.GetElapsedTime(started), figures, "the desktop phase deletes its sessions");
    }
}
