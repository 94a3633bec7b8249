using System.Text.Json;
using System.Text.Json.Nodes;

namespace Raworc.HostAgent.Tools;

/// <summary>
/// The Host's tool set: <c>bash</c> and <c>str_replace_based_edit_tool</c>, plus <c>computer</c> when the session has a
/// desktop, with their argument schemas.
/// </summary>
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

    /// <summary>The name of the desktop tool.</summary>
    public const string ComputerName = "computer";

    private static readonly JsonElement ComputerSchema = JsonDocument.Parse("""
        {"type":"object","properties":{
          "action":{"type":"string","enum":["screenshot","mouse_move","left_click","right_click","middle_click","double_click","triple_click","left_click_drag","left_mouse_down","left_mouse_up","type","key","hold_key","scroll","wait","cursor_position","zoom"]},
          "coordinate":{"type":"array","items":{"type":"integer"},"description":"[x, y] in screenshot pixels: where to move, click or scroll; the end of a drag."},
          "start_coordinate":{"type":"array","items":{"type":"integer"},"description":"left_click_drag: [x, y] where the drag starts."},
          "text":{"type":"string","description":"type: the text; key and hold_key: xdotool key names joined with + (ctrl+alt+t, Return); clicks and scroll: modifier keys to hold."},
          "scroll_direction":{"type":"string","enum":["up","down","left","right"]},
          "scroll_amount":{"type":"integer","description":"scroll: wheel clicks (default 3)."},
          "duration":{"type":"number","description":"wait and hold_key: seconds (0-60)."},
          "region":{"type":"array","items":{"type":"integer"},"description":"zoom: [x0, y0, x1, y1], the area to see at full resolution."}},
         "required":["action"]}
        """).RootElement.Clone();

    /// <summary>Builds both tools over the given implementations, and the <c>computer</c> tool when <paramref name="computer"/> is given.</summary>
    public static IReadOnlyList<AgentTool> Create(BashTool bash, TextEditorTool editor, ComputerTool? computer = null) =>
    [
        new(BashName,
            $"Run a shell command in {bash.Options.WorkingDirectory}. Returns the exit code, stdout and stderr (each capped to {bash.Options.MaxOutputChars} characters). Commands are killed after their timeout.",
            BashSchema,
            (arguments, cancellationToken) => RunBashAsync(bash, arguments, cancellationToken)),
        new(TextEditorTool.Name,
            $"View, create and edit files under {editor.Paths.Root}: view (file with line numbers or directory listing), create, str_replace (old_str must occur exactly once), insert (after insert_line), undo_edit.",
            EditorSchema,
            (arguments, _) => Task.FromResult(RunEditor(editor, arguments))),
        .. computer is null ? Array.Empty<AgentTool>() : [Computer(computer)],
    ];

    private static AgentTool Computer(ComputerTool computer)
    {
        var display = computer.Display;
        return new(ComputerName,
            $"Use the session's desktop ({display.ScaledWidth}x{display.ScaledHeight} screenshots; x 0-{display.ScaledWidth - 1}, y 0-{display.ScaledHeight - 1}) with the mouse and keyboard. "
            + "Every action but cursor_position returns a screenshot. Ctrl+Alt+T opens a terminal (in /session), Ctrl+Alt+B the browser; right-click the background for the menu.",
            ComputerSchema,
            (arguments, cancellationToken) => RunComputerAsync(computer, arguments, cancellationToken),
            display);
    }

    private static async Task<ToolResult> RunComputerAsync(ComputerTool computer, JsonObject arguments, CancellationToken cancellationToken)
    {
        try
        {
            return await computer.RunAsync(ComputerAction.Parse(arguments, computer.Display), cancellationToken);
        }
        catch (ToolException ex)
        {
            return new ToolResult($"Error: {ex.Message}", 1);
        }
    }

    private static async Task<ToolResult> RunBashAsync(BashTool bash, JsonObject arguments, CancellationToken cancellationToken)
    {
        var command = Text(arguments, "command");
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
                "view" => editor.View(path, Integers(arguments, "view_range")),
                "create" => editor.Create(path, Text(arguments, "file_text")),
                "str_replace" => editor.StrReplace(path, Text(arguments, "old_str"), Text(arguments, "new_str")),
                "insert" => editor.Insert(path, Integer(arguments, "insert_line"), Text(arguments, "new_str")),
                "undo_edit" => editor.UndoEdit(path),
                var other => throw new ToolException($"Unknown command '{other}'; use view, create, str_replace, insert or undo_edit."),
            };
            return new ToolResult(output, 0);
        }
        // The messages of these are written for readers (the file system's name the path the model gave); any other failure
        // is the recording's "the tool failed" (RecordingFunction), never the runtime's words.
        catch (Exception ex) when (ex is ToolException or IOException or UnauthorizedAccessException)
        {
            return new ToolResult($"Error: {ex.Message}", 1);
        }
    }

    private static string? Text(JsonObject arguments, string name) =>
        arguments[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    // An argument the schema types as an integer: absent or null is null; anything but a whole number is a ToolException naming it.
    private static int? Integer(JsonObject arguments, string name) => arguments[name] switch
    {
        null => null,
        var node => ComputerAction.Int(node) ?? throw new ToolException($"{name} must be an integer."),
    };

    // An argument the schema types as an array of integers: absent or null is null.
    private static int[]? Integers(JsonObject arguments, string name) => arguments[name] switch
    {
        null => null,
        JsonArray items when items.All(n => ComputerAction.Int(n) is not null) => [.. items.Select(n => ComputerAction.Int(n)!.Value)],
        _ => throw new ToolException($"{name} must be an array of integers."),
    };
}
