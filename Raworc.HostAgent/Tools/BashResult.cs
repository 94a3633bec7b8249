namespace Raworc.HostAgent.Tools;

/// <summary>The outcome of one <c>bash</c> call.</summary>
/// <param name="Stdout">Standard output, capped (head and tail, the cut marked).</param>
/// <param name="Stderr">Standard error, capped the same way.</param>
/// <param name="ExitCode">The exit status; 124 when the command timed out, 128+N when killed by signal N.</param>
/// <param name="TimedOut">Whether the timeout killed the process group.</param>
/// <param name="Duration">Wall-clock time from start to exit.</param>
public sealed record BashResult(string Stdout, string Stderr, int ExitCode, bool TimedOut, TimeSpan Duration)
{
    /// <summary>The text the model reads: exit code, then stdout and stderr in labelled sections.</summary>
    public string ToModelText(TimeSpan timeout)
    {
        var status = TimedOut
            ? $"exit_code: {ExitCode} (timed out after {timeout.TotalSeconds:0.#} s; the process tree was killed)"
            : $"exit_code: {ExitCode}";
        return $"{status}\n<stdout>\n{Stdout}\n</stdout>\n<stderr>\n{Stderr}\n</stderr>";
    }
}
