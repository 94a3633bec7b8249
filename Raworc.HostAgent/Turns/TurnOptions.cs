namespace Raworc.HostAgent.Turns;

/// <summary>Settings of one turn besides the model.</summary>
public sealed record TurnOptions
{
    /// <summary>The default system prompt.</summary>
    public const string DefaultSystemPrompt =
        "You are the Host of a Raworc session: an assistant with its own Linux computer. " +
        "Use the bash tool to run commands and str_replace_based_edit_tool to view and edit files. " +
        "Work in /session: code in /session/code, inputs and outputs in /session/data. " +
        "Secrets are available as environment variables; never print their values. " +
        "When done, answer the user concisely with what you did and found.";

    /// <summary>The system prompt; <see cref="InstructionsPath"/>'s content is appended each turn.</summary>
    public string SystemPrompt { get; init; } = DefaultSystemPrompt;

    /// <summary>The session's instructions file, re-read every turn; default <c>/session/code/instructions.md</c>. Missing is fine.</summary>
    public string InstructionsPath { get; init; } = "/session/code/instructions.md";

    /// <summary>The most characters of conversation history sent to the model; the oldest messages go first. Default 400,000.</summary>
    public int HistoryBudgetChars { get; init; } = 400_000;

    /// <summary>Folder of the tool log (<c>tools.log</c>, one JSON line per call); default <c>/session/logs</c>.</summary>
    public string LogsDirectory { get; init; } = "/session/logs";

    /// <summary>The most characters of tool output put into a <c>tool_execution</c> message; default 20,000.</summary>
    public int MaxToolMessageChars { get; init; } = 20_000;
}
