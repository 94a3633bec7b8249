using System.Globalization;

namespace Raworc.Benchmarks;

/// <summary>One row of the printed table.</summary>
/// <param name="Name">What was measured.</param>
/// <param name="Target">The target for a 2-core machine, as text.</param>
/// <param name="P50">Median, formatted with its unit ("—" where there is none).</param>
/// <param name="P95">95th percentile, formatted with its unit.</param>
/// <param name="N">Number of samples (repetitions, requests or sessions).</param>
/// <param name="Met">Whether the target was met; null when the figure could not be measured.</param>
/// <param name="Note">Where the time goes, how it was measured, or why it is missing.</param>
internal sealed record Figure(string Name, string Target, string P50, string P95, int N, bool? Met, string Note)
{
    /// <summary>The p50 in seconds, for figures that a floor or a share is computed from (NaN for the others).</summary>
    public double P50Seconds { get; init; } = double.NaN;

    /// <summary>The container floors measured in the same run that this figure is compared with ("—" for most rows).</summary>
    public string Floor { get; init; } = "—";

    /// <summary>This figure's p50 divided by each of <see cref="Floor"/> ("—" for most rows).</summary>
    public string Ratio { get; init; } = "—";

    /// <summary>A figure whose phase failed; the reason is printed instead of numbers.</summary>
    public static Figure NotMeasured(string name, string target, string reason) => new(name, target, "—", "—", 0, null, $"not measured: {reason}");

    public string Verdict => Met switch { true => "met", false => "missed", null => "—" };
}

/// <summary>Nearest-rank percentiles and the units the table prints.</summary>
internal static class Stats
{
    public static double Percentile(IReadOnlyCollection<double> values, double percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    public static double P50(IReadOnlyCollection<double> values) => Percentile(values, 50);

    public static double P95(IReadOnlyCollection<double> values) => Percentile(values, 95);

    public static string Seconds(double seconds) => string.Create(CultureInfo.InvariantCulture, $"{seconds:0.00} s");

    public static string Millis(double seconds) => string.Create(CultureInfo.InvariantCulture, $"{seconds * 1000:0.0} ms");

    public static string Rate(double perSecond) => string.Create(CultureInfo.InvariantCulture, $"{perSecond:#,0} req/s");

    public static string MiB(double bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024 * 1024):0.0} MiB");
}
