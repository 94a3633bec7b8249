namespace Raworc.HostAgent.Tools;

/// <summary>
/// What one tool call produced: the text the model reads, an exit code
/// (for <c>bash</c> the command's exit status, 124 on timeout; for the editor and the computer 0 on success, 1 on a
/// refused or failed command) and, for the <c>computer</c> tool, a screenshot.
/// </summary>
/// <param name="Output">Text handed back to the model; already capped by the tool.</param>
/// <param name="ExitCode">0 on success; any other value is a failure.</param>
/// <param name="Image">A PNG handed to the model beside <paramref name="Output"/>; never stored in a message or a log.</param>
public sealed record ToolResult(string Output, int ExitCode, byte[]? Image = null);
