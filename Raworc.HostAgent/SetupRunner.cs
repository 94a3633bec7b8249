using System.Diagnostics;

namespace Raworc.HostAgent;

/// <summary>
/// Runs the computer's setup program (<see cref="Api.AgentOptions.SetupCommand"/>) once, before the agent reports
/// ready. The program has its own time limit (<c>RAWORC_SETUP_TIMEOUT</c>) and reports its outcome in
/// <c>/session/logs/setup.status</c>; the agent only waits, so a failing setup never stops the computer.
/// </summary>
public static class SetupRunner
{
    /// <summary>Time the agent adds to the program's own limit before it stops waiting.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    /// <summary>Runs <paramref name="command"/> with the agent's environment and standard streams, and waits for it.</summary>
    /// <param name="command">Path of the program.</param>
    /// <param name="logger">Where a failure to start or a wait beyond the limit is reported (never the environment).</param>
    /// <param name="cancellationToken">The agent stopping.</param>
    public static async Task RunAsync(string command, ILogger logger, CancellationToken cancellationToken)
    {
        var limit = int.TryParse(Environment.GetEnvironmentVariable(HostAgentVariables.SetupTimeout), out var seconds) && seconds > 0 ? seconds : 300;
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
}
