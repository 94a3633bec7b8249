using Raworc.Cli;

namespace Raworc.Tests.Cli;

/// <summary>What one run of the CLI printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error)
{
    /// <summary>Standard output's lines (without the trailing empty one).</summary>
    public string[] Lines => Out.TrimEnd('\n').Split('\n');
}

/// <summary>
/// Runs <c>raworc</c> in-process through its entry point (<see cref="RaworcCli.RunAsync"/>) with captured output, a
/// given standard input and environment, and its own config file, so tests never touch the user's config.
/// </summary>
public sealed class CliRun : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("raworc-cli-test-").FullName;

    /// <summary>The config file every run of this instance uses (<c>RAWORC_CONFIG</c>).</summary>
    public string ConfigPath => Path.Combine(_folder, "config", "raworc.json");

    /// <summary>Runs the CLI with <paramref name="args"/>; fails the test after <paramref name="timeout"/> (default 60 s).</summary>
    public async Task<CliResult> RunAsync(string[] args, string input = "", IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var run = StartAsync(args, input, environment, cancellationToken);
        var finished = await Task.WhenAny(run.Task, Task.Delay(timeout ?? TimeSpan.FromSeconds(60)));
        Assert.True(finished == run.Task, $"raworc {string.Join(' ', args)} did not finish in time; out: {run.Out}; error: {run.Error}");
        return await run.Task;
    }

    /// <summary>Starts the CLI and returns at once; <see cref="Running.Out"/> grows while it runs.</summary>
    public Running StartAsync(string[] args, string input = "", IReadOnlyDictionary<string, string>? environment = null, CancellationToken cancellationToken = default)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var variables = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["RAWORC_CONFIG"] = ConfigPath };
        var console = new CliConsole(new StringReader(input), TextWriter.Synchronized(output), TextWriter.Synchronized(error),
            name => variables.GetValueOrDefault(name), IsInteractive: false);
        var task = Task.Run(async () =>
        {
            var code = await RaworcCli.RunAsync(args, console, cancellationToken);
            return new CliResult(code, output.ToString(), error.ToString());
        }, CancellationToken.None);
        return new Running(task, output, error);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A CLI run in progress.</summary>
    public sealed record Running(Task<CliResult> Task, StringWriter OutWriter, StringWriter ErrorWriter)
    {
        public string Out => OutWriter.ToString();
        public string Error => ErrorWriter.ToString();
    }
}
