using System.Text.Json;
using System.Text.Json.Nodes;

namespace Raworc.HostAgent.Tools;

/// <summary>The Host's tool set: <c>bash</c> and <c>str_replace_based_edit_tool</c>, with their argument schemas.</summary>
public static class AgentTools
{
    /// <summary>The name of the shell tool.</summary>
    public const string BashName = "bash";

    private static readonly JsonElement BashSchema = JsonDocument.Parse("""
        {"type":"object","properties":{
          "command":{"type":"string","description":"The shell command to run with /bin/bash -c."},
          "timeout_seconds":{"type":"integer","description":"Optional timeout in seconds; the default applies when omitted."}},
         "required":["command"]}
        """).RootElement.Clone();

    private static readonly JsonElement EditorSchema = JsonDocument.Parse("""
        {"type":"object","properties":{
          "command":{"type":"string","enum":["view","create","str_replace","insert","undo_edit"]},
          "path":{"type":"string","description":"Absolute path under the session folder, or a path relative to it."},
          "file_text":{"type":"string","description":"create: the whole content of the new file."},
          "old_str":{"type":"string","description":"str_replace: text that must occur exactly once."},
          "new_str":{"type":"string","description":"str_replace: the replacement; insert: the text to insert."},
          "insert_line":{"type":"integer","description":"insert: the line after which new_str goes (0 = top)."},
          "view_range":{"type":"array","items":{"type":"integer"},"description":"view: [start_line, end_line], end -1 = last line."}},
         "required":["command","path"]}
        """).RootElement.Clone();

    /// <summary>
    /// Raworc 0.3.5's name for a tool's kind, written beside ours as <c>metadata.tool_type</c> on tool messages so that
    /// clients written for Raworc (its CLI labels a tool run by it) keep working: <c>bash</c>, <c>text_editor</c> for
    /// <c>str_replace_based_edit_tool</c>, and a tool's own name for any other (<c>computer</c>).
    /// </summary>
    public static string RaworcToolType(string tool) => tool switch
    {
        TextEditorTool.Name => "text_editor",
        _ => tool,
    };

    /// <summary>Builds both tools over the given implementations.</summary>
    public static IReadOnlyList<AgentTool> Create(BashTool bash, TextEditorTool editor) =>
    [
        new(BashName,
            $"Run a shell command in {bash.Options.WorkingDirectory}. Returns the exit code, stdout and stderr (each capped to {bash.Options.MaxOutputChars} characters). Commands are killed after their timeout.",
            BashSchema,
            (arguments, cancellationToken) => RunBashAsync(bash, arguments, cancellationToken)),
        new(TextEditorTool.Name,
            $"View, create and edit files under {editor.Paths.Root}: view (file with line numbers or directory listing), create, str_replace (old_str must occur exactly once), insert (after insert_line), undo_edit.",
            EditorSchema,
            (arguments, _) => Task.FromResult(RunEditor(editor, arguments))),
    ];

    private static async Task<ToolResult> RunBashAsync(BashTool bash, JsonObject arguments, CancellationToken cancellationToken)
    {
        var command = arguments["command"]?.GetValue<string>();
        if (string.IsNullOrWhiteSpace(command))
        {
            return new ToolResult("Error: the bash tool needs a command.", 1);
        }

        TimeSpan? timeout = arguments["timeout_seconds"] is JsonValue value && value.TryGetValue<int>(out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : null;
        var result = await bash.RunAsync(command, timeout, cancellationToken);
        return new ToolResult(result.ToModelText(timeout ?? bash.Options.Timeout), result.ExitCode);
    }

    private static ToolResult RunEditor(TextEditorTool editor, JsonObject arguments)
    {
        var path = Text(arguments, "path") ?? "";
        try
        {
            var output = Text(arguments, "command") switch
            {
                "view" => editor.View(path, arguments["view_range"] is JsonArray range ? [.. range.Select(n => n!.GetValue<int>())] : null),
                "create" => editor.Create(path, Text(arguments, "file_text")),
                "str_replace" => editor.StrReplace(path, Text(arguments, "old_str"), Text(arguments, "new_str")),
                "insert" => editor.Insert(path, arguments["insert_line"]?.GetValue<int>(), Text(arguments, "new_str")),
                "undo_edit" => editor.UndoEdit(path),
                var other => throw new ToolException($"Unknown command '{other}'; use view, create, str_replace, insert or undo_edit."),
            };
            return new ToolResult(output, 0);
        }
        catch (Exception ex) when (ex is ToolException or IOException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            return new ToolResult($"Error: {ex.Message}", 1);
        }
    }

    private static string? Text(JsonObject arguments, string name) =>
        arguments[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
