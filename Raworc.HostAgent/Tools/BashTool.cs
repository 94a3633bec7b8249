using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Raworc.HostAgent.Tools;

/// <summary>
/// The <c>bash</c> tool: runs one command with <c>/bin/bash -c</c> in its own session and process group
/// (through <c>setsid</c>), so that on timeout or cancellation the whole tree, grandchildren included, is killed.
/// </summary>
/// <remarks>
/// Every command starts as a small launcher shell that reads the command (UTF-8, ended by a NUL) from its stdin, then
/// answers with one byte on its stdout (<see cref="Taken"/>: from then on the command runs; a launcher that ends before it
/// never ran it, and the command goes to a fresh one), then replaces itself with <c>setsid [prlimit] /bin/bash -c
/// command</c>; stdin is then at its end. With
/// <see cref="BashOptions.StandbyShell"/> the next launcher is started ahead, while the current command runs: its
/// process already counts against the computer's process limit, so a command that takes every process slot that frees
/// (a fork bomb) cannot keep the Host from starting the next one.
/// </remarks>
public sealed class BashTool
{
    private readonly BashOptions options;
    private Process? _standby;

    /// <summary>
    /// Creates the tool and starts no process: with <see cref="BashOptions.StandbyShell"/> the first launcher starts at
    /// <see cref="StartStandby"/> or with the first command.
    /// </summary>
    /// <param name="options">The settings in force.</param>
    public BashTool(BashOptions options) => this.options = options;

    /// <summary>
    /// With <see cref="BashOptions.StandbyShell"/>, starts the next command's launcher now unless one already waits; does
    /// nothing otherwise. A launcher keeps the environment of the moment it starts, so the agent calls this once its
    /// session's variables are in place (a warm-pool computer's come with its claim).
    /// </summary>
    public void StartStandby()
    {
        if (options.StandbyShell && Volatile.Read(ref _standby) is null)
        {
            KeepStandby();
        }
    }

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
        if (options.Network is { Settled: false } network)
        {
            await network.WaitAsync(cancellationToken);
        }
        var limit = timeout ?? options.Timeout;
        var stopwatch = Stopwatch.StartNew();
        using var process = await LaunchAsync(command, cancellationToken);
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

    /// <summary>
    /// The launcher's script: <c>$1</c> is the process limit (empty for none). A command goes to <c>bash -c</c> as one
    /// argument, which Linux caps at 128 KiB (<c>MAX_ARG_STRLEN</c>, 32 pages: "Argument list too long", exit 126); one
    /// longer than <see cref="LongCommandChars"/> characters (up to 4 bytes each in UTF-8) is handed over as a script on
    /// file descriptor 9 instead (a here-string: a pipe or a file in <c>$TMPDIR</c>), which the command's processes inherit.
    /// </summary>
    private const string Launcher = $$"""
        IFS= read -r -d '' command || exit 125
        printf '+'
        if [ "${#command}" -gt {{LongCommandChars}} ]; then exec 9<<<"$command"; run=(/dev/fd/9); else run=(-c "$command"); fi
        if [ -n "$1" ]; then exec setsid prlimit --nproc="$1:$1" -- /bin/bash "${run[@]}"; fi
        exec setsid /bin/bash "${run[@]}"
        """;

    /// <summary>The length, in characters, past which the launcher reads the command as a script from a file descriptor.</summary>
    private const string LongCommandChars = "30000";

    // The standby launcher if it is still waiting, else a new one; then the command goes to its stdin.
    private async Task<Process> LaunchAsync(string command, CancellationToken cancellationToken)
    {
        var process = Interlocked.Exchange(ref _standby, null);
        if (options.StandbyShell)
        {
            KeepStandby();
        }
        if (process is not null && await TrySendAsync(process, command, options.HandoverTimeout, cancellationToken))
        {
            return process;
        }
        process?.Dispose();
        process = StartLauncher();
        if (await TrySendAsync(process, command, options.HandoverTimeout, cancellationToken))
        {
            return process;
        }
        process.Dispose();
        throw new InvalidOperationException("The command's shell ended before it could read the command.");
    }

    /// <summary>The byte a launcher writes to its stdout once it has read its command, before it becomes the command.</summary>
    private const char Taken = '+';

    // True once the launcher has taken the command: a standby can be killed (a command may end any process of its user)
    // after it was found alive and the command was written into its pipe, but before it read it (CI: "" for `echo again`).
    // A launcher that does not acknowledge within the handover timeout (a standby stopped by code in the computer: the
    // write fills its pipe, and nothing is ever read) is killed, and the command goes to a fresh one.
    private static async Task<bool> TrySendAsync(Process process, string command, TimeSpan handoverTimeout, CancellationToken cancellationToken)
    {
        using var handover = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        handover.CancelAfter(handoverTimeout);
        var first = new char[1];
        try
        {
            if (await TryWriteAsync(process, command, handover.Token)
                && await process.StandardOutput.ReadAsync(first.AsMemory(), handover.Token) == 1 && first[0] == Taken)
            {
                return true;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await KillGroupAsync(process);
            process.Dispose();
            throw;
        }
        catch (OperationCanceledException)
        {
            // The handover timed out.
        }
        await KillGroupAsync(process);
        return false;
    }

    private static async Task<bool> TryWriteAsync(Process process, string command, CancellationToken cancellationToken)
    {
        try
        {
            if (process.HasExited)
            {
                return false;
            }
            await process.StandardInput.WriteAsync((command + "\0").AsMemory(), cancellationToken);
            // Commands that read stdin get end-of-file instead of hanging.
            process.StandardInput.Close();
            return true;
        }
        catch (IOException)
        {
            // The standby was ended meanwhile (a command may kill any process of its user).
            return false;
        }
    }

    // Starts the next launcher ahead; when no process can be started now (every slot taken), the next command tries again.
    private void KeepStandby()
    {
        try
        {
            var fresh = StartLauncher();
            if (Interlocked.CompareExchange(ref _standby, fresh, null) is not null)
            {
                fresh.Kill();
                fresh.Dispose();
            }
        }
        catch (Win32Exception)
        {
        }
    }

    private Process StartLauncher()
    {
        Directory.CreateDirectory(options.WorkingDirectory);
        var startInfo = new ProcessStartInfo("/bin/bash")
        {
            WorkingDirectory = options.WorkingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(Launcher);
        startInfo.ArgumentList.Add("bash");
        startInfo.ArgumentList.Add(options.ProcessLimit?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "");
        foreach (var name in options.HiddenVariables)
        {
            startInfo.Environment.Remove(name);
        }
        return Process.Start(startInfo) ?? throw new InvalidOperationException("bash could not be started.");
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
