namespace Raworc.Cli;

/// <summary>
/// What a command reads and writes: the process's console, or (in tests) captured writers, a given input and a given
/// environment, so the CLI can run in-process.
/// </summary>
/// <param name="In">Standard input (a password may come from it).</param>
/// <param name="Out">Standard output: what a command produces (tables, the Host's answer).</param>
/// <param name="Error">Standard error: progress and errors.</param>
/// <param name="Environment">Reads an environment variable (<c>RAWORC_PASSWORD</c>, <c>RAWORC_CONFIG</c>).</param>
/// <param name="IsInteractive">Standard input is a terminal: ask for a password without echo.</param>
public sealed record CliConsole(TextReader In, TextWriter Out, TextWriter Error, Func<string, string?> Environment, bool IsInteractive)
{
    /// <summary>The process's own console and environment.</summary>
    public static CliConsole System => new(Console.In, Console.Out, Console.Error, global::System.Environment.GetEnvironmentVariable,
        !Console.IsInputRedirected);
}
