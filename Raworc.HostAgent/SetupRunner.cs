using System.Diagnostics;
using System.Globalization;

namespace Raworc.HostAgent;

/// <summary>
/// Runs the computer's setup program (<see cref="Api.AgentOptions.SetupCommand"/>) once, before the agent reports
/// ready. The program has its own time limit (<c>RAWORC_SETUP_TIMEOUT</c>) and reports its outcome in
/// <c>/session/logs/setup.status</c>; the agent only waits, so a failing setup never stops the computer. A session
/// without <c>code/setup.sh</c> has nothing for the program to do: the agent then starts no process and writes the
/// outcome the program would have written (<see cref="RecordNone"/>), which is most of a warm computer's time to ready.
/// </summary>
public static class SetupRunner
{
    /// <summary>Time the agent adds to the program's own limit before it stops waiting.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    /// <summary>The default of <c>RAWORC_SETUP_TIMEOUT</c>, seconds (as the image's <c>raworc-setup</c>).</summary>
    public const int DefaultLimitSeconds = 300;

    /// <summary>Whether <paramref name="sessionDirectory"/> holds <c>code/setup.sh</c> (a file, or a link to one), as <c>raworc-setup</c>'s <c>[ -f ]</c> tests.</summary>
    public static bool HasScript(string sessionDirectory) => File.Exists(Path.Combine(sessionDirectory, "code", "setup.sh"));

    /// <summary>
    /// Writes <c>logs/setup.status</c> as <c>raworc-setup</c> does when there is no script (<c>result=none</c>, an empty
    /// <c>exit_code</c>, <c>timeout_seconds</c>, <c>finished_at</c> in UTC), replacing the file atomically, so that an
    /// outcome of an earlier start is not reported again. A failure to write is logged, never thrown.
    /// </summary>
    /// <param name="sessionDirectory">The session folder.</param>
    /// <param name="logger">Where a failure to write is reported.</param>
    public static void RecordNone(string sessionDirectory, ILogger logger)
    {
        var logs = Path.Combine(sessionDirectory, "logs");
        var status = Path.Combine(logs, "setup.status");
        try
        {
            Directory.CreateDirectory(logs);
            // Removed first: a FIFO the session's code left there would make the write wait for ever.
            File.Delete(status + ".tmp");
            File.WriteAllText(status + ".tmp", string.Create(CultureInfo.InvariantCulture,
                $"result=none\nexit_code=\ntimeout_seconds={LimitSeconds()}\nfinished_at={DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ}\n"));
            File.Move(status + ".tmp", status, overwrite: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("The setup status could not be written: {Reason}", exception.Message);
        }
    }

    /// <summary>Runs <paramref name="command"/> with the agent's environment and standard streams, and waits for it.</summary>
    /// <param name="command">Path of the program.</param>
    /// <param name="logger">Where a failure to start or a wait beyond the limit is reported (never the environment).</param>
    /// <param name="cancellationToken">The agent stopping.</param>
    public static async Task RunAsync(string command, ILogger logger, CancellationToken cancellationToken)
    {
        var limit = LimitSeconds();
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(TimeSpan.FromSeconds(limit) + Grace);
        try
        {
            using var process = Process.Start(new ProcessStartInfo(command) { UseShellExecute = false })!;
            try
            {
                await process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("The setup program ran past its limit of {Seconds} s; going on without it", limit);
                process.Kill(entireProcessTree: true);
            }
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            logger.LogWarning("The setup program {Command} could not be started: {Reason}", command, exception.Message);
        }
    }

    /// <summary>
    /// The outcome in <c>logs/setup.status</c> (<see cref="SetupOutcome.Parse"/>), for the ready report: the API then need
    /// not read the file out of the computer. Null when the file is missing or unreadable; only its first 4 KiB are read
    /// (the session's code can write it), and nothing when it is not a regular file (<see cref="SessionFiles"/>).
    /// </summary>
    /// <param name="sessionDirectory">The session folder.</param>
    public static SetupOutcome? ReadOutcome(string sessionDirectory)
    {
        // Not File.OpenRead: the session's code can put a FIFO there, and opening that would wait for a writer for ever.
        if (SessionFiles.TryReadText(Path.Combine(sessionDirectory, "logs", "setup.status"), 4096) is not { } text)
        {
            return null;
        }
        return SetupOutcome.Parse(text);
    }

    private static int LimitSeconds() =>
        int.TryParse(Environment.GetEnvironmentVariable(HostAgentVariables.SetupTimeout), out var seconds) && seconds > 0 ? seconds : DefaultLimitSeconds;
}
