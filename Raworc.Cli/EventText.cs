using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Raworc.Client;
using Raworc.Client.Models;

namespace Raworc.Cli;

/// <summary>Session events and messages as terminal text, and as JSON lines for <c>--json</c>.</summary>
public static class EventText
{
    /// <summary>Most output lines of a tool run printed under its headline; the rest is counted (the whole is in the messages).</summary>
    public const int MaxToolOutputLines = 20;

    /// <summary>
    /// A tool run: <c>[tool] headline (exit N, M ms)</c>, then its output indented by two spaces, at most
    /// <see cref="MaxToolOutputLines"/> lines and then <c>… K more lines</c>; control characters made visible
    /// (<see cref="TerminalText.Visible"/>).
    /// </summary>
    /// <param name="message">A host message whose <see cref="Message.Type"/> is <c>tool_execution</c>.</param>
    public static string ToolRun(Message message)
    {
        var lines = TerminalText.Visible(message.Content).Split('\n');
        var facts = new List<string>();
        if (message.MetadataNumber("exit_code") is { } exit)
        {
            facts.Add($"exit {exit.ToString(CultureInfo.InvariantCulture)}");
        }
        if (message.MetadataNumber("duration_ms") is { } ms)
        {
            facts.Add($"{ms.ToString(CultureInfo.InvariantCulture)} ms");
        }
        var text = new StringBuilder($"[{TerminalText.Visible(message.MetadataString("tool") ?? "tool")}] {lines[0]}");
        if (facts.Count > 0)
        {
            text.Append($" ({string.Join(", ", facts)})");
        }
        var output = lines.Skip(1).ToList();
        while (output.Count > 0 && output[^1].Length == 0)
        {
            output.RemoveAt(output.Count - 1);
        }
        foreach (var line in output.Take(MaxToolOutputLines))
        {
            text.Append("\n  ").Append(line);
        }
        if (output.Count > MaxToolOutputLines)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n  … {output.Count - MaxToolOutputLines} more lines");
        }
        return text.ToString();
    }

    /// <summary>
    /// One event as <c>raworc watch</c> prints it: <c>user: …</c>, a tool run (<see cref="ToolRun"/>), <c>host: …</c>
    /// (an answer), <c>host error: …</c>, <c>system: …</c>, <c>state: S</c> (with the reason when errored),
    /// <c>screen changed</c>, <c>session deleted</c>.
    /// </summary>
    /// <param name="e">The event.</param>
    public static string Line(SessionEvent e) => e switch
    {
        MessageEvent { Message: var m } when m.Role == MessageRoles.Host && m.Type == "tool_execution" => ToolRun(m),
        MessageEvent { Message: var m } when m.Role == MessageRoles.Host && m.Type == "error" => $"host error: {TerminalText.Visible(m.Content)}",
        MessageEvent { Message: var m } => $"{m.Role}: {TerminalText.Visible(m.Content)}",
        StateEvent { Session: var s } => s.Error is { Length: > 0 } error ? $"state: {s.State} ({TerminalText.Visible(error)})" : $"state: {s.State}",
        ScreenEvent => "screen changed",
        DeletedEvent => "session deleted",
        _ => e.ToString(),
    };

    /// <summary>One event as one line of JSON: <c>{"id","event","data"}</c>, <c>data</c> with the fields this client knows, in the wire's names.</summary>
    /// <param name="e">The event.</param>
    public static string Json(SessionEvent e)
    {
        var (name, data) = e switch
        {
            MessageEvent m => ("message", RaworcJson.ToNode(m.Message)),
            StateEvent s => ("state", RaworcJson.ToNode(s.Session)),
            ScreenEvent s => ("screen", new JsonObject { ["session_id"] = s.SessionId.ToString(), ["at"] = s.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) }),
            DeletedEvent d => ("deleted", new JsonObject { ["session_id"] = d.SessionId.ToString() }),
            _ => ("unknown", null),
        };
        return new JsonObject { ["id"] = e.Id, ["event"] = name, ["data"] = data }.ToJsonString();
    }
}
