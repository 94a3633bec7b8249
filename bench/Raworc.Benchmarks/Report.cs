namespace Raworc.Benchmarks;

/// <summary>Prints the one table (Markdown, so that it can be pasted into the README as it is).</summary>
internal static class Report
{
    public static void Print(TextWriter output, string machine, TimeSpan runTime, IReadOnlyList<Figure> figures, string cleanup)
    {
        output.WriteLine();
        output.WriteLine($"Raworc benchmarks, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, run took {runTime.TotalSeconds:0} s");
        output.WriteLine($"Machine: {machine}");
        output.WriteLine();
        output.WriteLine("| figure | target | p50 | p95 | n | verdict | floor (p50, same run) | p50 ÷ floor | note |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var f in figures)
        {
            output.WriteLine($"| {f.Name} | {f.Target} | {f.P50} | {f.P95} | {f.N} | {f.Verdict} | {f.Floor} | {f.Ratio} | {f.Note.Replace("|", "\\|", StringComparison.Ordinal)} |");
        }
        output.WriteLine();
        output.WriteLine($"Cleanup: {cleanup}");
    }
}
