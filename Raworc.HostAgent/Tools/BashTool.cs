using System.Diagnostics;

namespace Raworc.HostAgent.Tools;

/// <summary>
/// The <c>bash</c> tool: runs one command with <c>/bin/bash -c</c> in its own session and process group
/// (through <c>setsid</c>), so that on timeout or cancellation the whole tree, grandchildren included, is killed.
/// </summary>
public sealed class BashTool(BashOptions options)
{
    /// <summary>Exit code reported when the timeout killed the command (as coreutils' <c>timeout</c> does).</summary>
    public const int TimeoutExitCode = 124;

    // Output pipes can be held open by a process that left the group; never wait on them forever.
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(2);

    /// <summary>The settings in force.</summary>
    public BashOptions Options => options;

    /// <summary>Runs <paramref name="command"/> and waits for it to finish, time out, or be cancelled.</summary>
    /// <param name="command">Shell text, run as <c>/bin/bash -c command</c>.</param>
    /// <param name="timeout">Per-call timeout; <see cref="BashOptions.Timeout"/> when null.</param>
    /// <param name="cancellationToken">Cancels the call; the process group is killed and the exception rethrown.</param>
    /// <returns>Captured, capped stdout and stderr, the exit code and the duration.</returns>
    public async Task<BashResult> RunAsync(string command, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var limit = timeout ?? options.Timeout;
        Directory.CreateDirectory(options.WorkingDirectory);
        var startInfo = new ProcessStartInfo("setsid")
        {
            WorkingDirectory = options.WorkingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (options.ProcessLimit is { } processes)
        {
            startInfo.ArgumentList.Add("prlimit");
            startInfo.ArgumentList.Add($"--nproc={processes}:{processes}");
            startInfo.ArgumentList.Add("--");
        }
        startInfo.ArgumentList.Add("/bin/bash");
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(command);
        foreach (var name in options.HiddenVariables)
        {
            startInfo.Environment.Remove(name);
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("setsid could not be started.");
        // Commands that read stdin get end-of-file instead of hanging.
        process.StandardInput.Close();
        var stdout = new CappedText(options.MaxOutputChars);
        var stderr = new CappedText(options.MaxOutputChars);
        var readers = Task.WhenAll(DrainAsync(process.StandardOutput, stdout), DrainAsync(process.StandardError, stderr));

        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(limit);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(timeoutCts.Token);
        }
        catch (OperationCanceledException)
        {
            await KillGroupAsync(process);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            timedOut = true;
        }

        await Task.WhenAny(readers, Task.Delay(DrainGrace, CancellationToken.None));
        stopwatch.Stop();
        var exitCode = timedOut ? TimeoutExitCode : process.ExitCode;
        return new BashResult(stdout.ToString(), stderr.ToString(), exitCode, timedOut, stopwatch.Elapsed);
    }

    private static async Task DrainAsync(StreamReader reader, CappedText sink)
    {
        var buffer = new char[8192];
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory())) > 0)
        {
            sink.Append(buffer.AsSpan(0, read));
        }
    }

    private static async Task KillGroupAsync(Process process)
    {
        // setsid execs bash in place, so the child's pid is also its process group id.
        _ = NativeMethods.Kill(-process.Id, NativeMethods.SigKill);
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        using var waitCts = new CancellationTokenSource(DrainGrace);
        try
        {
            await process.WaitForExitAsync(waitCts.Token);
        }
        catch (OperationCanceledException)
        {
            // A zombie that is not reaped yet changes nothing for the caller.
        }
    }
}
