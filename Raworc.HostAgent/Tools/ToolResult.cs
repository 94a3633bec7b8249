namespace Raworc.HostAgent.Tools;

/// <summary>
/// What one tool call produced: the text the model reads and an exit code
/// (for <c>bash</c> the command's exit status, 124 on timeout; for the editor 0 on success, 1 on a refused or failed command).
/// </summary>
/// <param name="Output">Text handed back to the model; already capped by the tool.</param>
/// <param name="ExitCode">0 on success; any other value is a failure.</param>
public sealed record ToolResult(string Output, int ExitCode);
