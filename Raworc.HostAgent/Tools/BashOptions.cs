namespace Raworc.HostAgent.Tools;

/// <summary>Settings of the <c>bash</c> tool.</summary>
public sealed record BashOptions
{
    /// <summary>Folder the commands run in; default <c>/session</c>. Created if missing.</summary>
    public string WorkingDirectory { get; init; } = "/session";

    /// <summary>Time after which a command's whole process group is killed; default 120 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// When set, each command runs under this <c>nproc</c> limit (soft and hard, so it cannot be raised again), through
    /// util-linux's <c>prlimit</c>: under gVisor, where <c>nproc</c> is the computer's process limit, this keeps a reserve
    /// of processes and threads for the agent itself, which a fork bomb in a command would otherwise take (measured:
    /// the agent could start no thread until the bomb's processes ended). From <c>RAWORC_TOOL_PROCESS_LIMIT</c>.
    /// </summary>
    public int? ProcessLimit { get; init; }

    /// <summary>
    /// When true, the shell of the next command is started ahead, while the current one runs (one idle <c>bash</c>
    /// waiting on its stdin): under <c>runc</c> the computer's process limit is one pids cgroup shared by the agent and
    /// its tools, and no smaller budget can be given to the tools there (README, "The Host's own survival"), so the
    /// agent holds the process of its next command before a command can take every slot. Default false.
    /// </summary>
    public bool StandbyShell { get; init; }

    /// <summary>
    /// How long a launcher may take to acknowledge the command written to it (<see cref="BashTool"/>'s handover); default
    /// 10 s. A standby that code in the computer stopped (SIGSTOP) never does: past this the launcher is killed and the
    /// command goes to a fresh one, instead of the turn waiting for good.
    /// </summary>
    public TimeSpan HandoverTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// When set, each command first waits for the computer's network (<see cref="NetworkAttachment.WaitAsync"/>): the first
    /// command of a computer whose network the API attaches after its start. Its wait is not part of the command's
    /// duration or timeout. Default none.
    /// </summary>
    public NetworkAttachment? Network { get; init; }

    /// <summary>The most characters kept of stdout and, separately, of stderr (head and tail); default 30,000.</summary>
    public int MaxOutputChars { get; init; } = 30_000;

    /// <summary>
    /// Environment variables removed from the commands' environment (default: the Host token), so that the
    /// model cannot read the agent's own credentials.
    /// </summary>
    public IReadOnlyList<string> HiddenVariables { get; init; } = [HostAgentVariables.HostToken];
}
