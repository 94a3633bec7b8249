using Raworc.Tests.Infrastructure;

namespace Raworc.Benchmarks;

/// <summary>
/// The tests' system with computers, as the benchmark may vary it for a back-to-back comparison: without the API's OTLP
/// exporter (`--no-otlp`: a deployment without a collector, where the API records no telemetry at all; by default it exports
/// to a receiver in this process, as a development run exports to the dashboard), and with extra environment variables
/// for the API (`--api-env NAME=VALUE`, repeatable: a runtime or library setting tried without a rebuild).
/// </summary>
internal sealed class BenchFixture(bool exporter, IReadOnlyDictionary<string, string> extra) : ComputersAppFixture
{
    protected override IReadOnlyDictionary<string, string> ApiEnvironment
    {
        get
        {
            var environment = base.ApiEnvironment.Where(e => exporter || !e.Key.StartsWith("OTEL_", StringComparison.Ordinal)).ToDictionary();
            foreach (var (name, value) in extra)
            {
                environment[name] = value;
            }
            return environment;
        }
    }

    /// <summary>The fixture the command line asks for, and a description of what differs from the tests' ("" when nothing).</summary>
    public static (BenchFixture Fixture, string Variant) FromArguments(IReadOnlyList<string> args)
    {
        var exporter = !args.Contains("--no-otlp");
        var extra = new Dictionary<string, string>();
        for (var i = 0; i + 1 < args.Count; i++)
        {
            if (args[i] == "--api-env" && args[i + 1].Split('=', 2) is [var name, var value])
            {
                extra[name] = value;
            }
        }
        var variant = new List<string>();
        if (!exporter)
        {
            variant.Add("API without OTLP exporter");
        }
        variant.AddRange(extra.Select(e => $"API with {e.Key}={e.Value}"));
        return (new BenchFixture(exporter, extra), string.Join(", ", variant));
    }
}
