using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Raworc.HostAgent.Tools;

/// <summary>
/// One action of the <c>computer</c> tool, parsed from the model's arguments and checked against the display. The
/// action set is Anthropic's computer-use tool's: <c>screenshot</c>, <c>mouse_move</c>, <c>left_click</c>,
/// <c>right_click</c>, <c>middle_click</c>, <c>double_click</c>, <c>triple_click</c>, <c>left_click_drag</c>,
/// <c>left_mouse_down</c>, <c>left_mouse_up</c>, <c>type</c>, <c>key</c>, <c>hold_key</c>, <c>scroll</c>, <c>wait</c>,
/// <c>cursor_position</c> and <c>zoom</c>. Coordinates are in the model's (scaled) space.
/// </summary>
/// <param name="Name">The action.</param>
/// <param name="Coordinate">Where (<c>coordinate</c>): required by <c>mouse_move</c>, <c>left_click_drag</c>; optional for clicks and <c>scroll</c>.</param>
/// <param name="Start">Where a drag starts (<c>start_coordinate</c>).</param>
/// <param name="Text">Text to type, xdotool key names for <c>key</c>/<c>hold_key</c>, or modifier keys held during a click or scroll.</param>
/// <param name="ScrollDirection"><c>up</c>, <c>down</c>, <c>left</c> or <c>right</c>.</param>
/// <param name="ScrollAmount">Wheel clicks, 1–50.</param>
/// <param name="Duration">Seconds for <c>wait</c> and <c>hold_key</c>, 0–60.</param>
/// <param name="Region">The area <c>zoom</c> shows: x0, y0, x1, y1 with x0 &lt; x1 and y0 &lt; y1.</param>
public sealed partial record ComputerAction(string Name, (int X, int Y)? Coordinate = null, (int X, int Y)? Start = null,
    string? Text = null, string? ScrollDirection = null, int ScrollAmount = 0, double Duration = 0, int[]? Region = null)
{
    /// <summary>The most characters one <c>type</c> action may type.</summary>
    public const int MaxTextChars = 10_000;

    /// <summary>Every action name.</summary>
    public static readonly string[] Names =
    [
        "screenshot", "mouse_move", "left_click", "right_click", "middle_click", "double_click", "triple_click",
        "left_click_drag", "left_mouse_down", "left_mouse_up", "type", "key", "hold_key", "scroll", "wait",
        "cursor_position", "zoom",
    ];

    private static readonly string[] Clicks = ["left_click", "right_click", "middle_click", "double_click", "triple_click"];

    /// <summary>Parses and checks the model's arguments.</summary>
    /// <exception cref="ToolException">A missing or malformed field, an unknown action, or a coordinate off the display.</exception>
    public static ComputerAction Parse(JsonObject arguments, ComputerDisplay display)
    {
        var name = String(arguments, "action") ?? throw new ToolException($"The computer tool needs an action: one of {string.Join(", ", Names)}.");
        if (!Names.Contains(name))
        {
            throw new ToolException($"Unknown action '{name}'; use one of {string.Join(", ", Names)}.");
        }

        var coordinate = Point(arguments, "coordinate", display);
        var text = String(arguments, "text");
        switch (name)
        {
            case "mouse_move":
                return new ComputerAction(name, coordinate ?? throw Missing(name, "coordinate"));
            case "left_click_drag":
                return new ComputerAction(name, coordinate ?? throw Missing(name, "coordinate"),
                    Point(arguments, "start_coordinate", display) ?? throw Missing(name, "start_coordinate"));
            case var click when Clicks.Contains(click):
                return new ComputerAction(name, coordinate, Text: text is null ? null : KeyNames(text));
            case "left_mouse_down" or "left_mouse_up":
                return new ComputerAction(name, coordinate);
            case "type":
                if (string.IsNullOrEmpty(text))
                {
                    throw Missing(name, "text");
                }
                return text.Length > MaxTextChars
                    ? throw new ToolException($"type takes at most {MaxTextChars} characters at once; split the text.")
                    : new ComputerAction(name, Text: text);
            case "key":
                return new ComputerAction(name, Text: KeyNames(text ?? throw Missing(name, "text")));
            case "hold_key":
                return new ComputerAction(name, Text: KeyNames(text ?? throw Missing(name, "text")), Duration: Seconds(arguments, required: true));
            case "scroll":
                var direction = String(arguments, "scroll_direction");
                if (direction is not ("up" or "down" or "left" or "right"))
                {
                    throw new ToolException("scroll needs scroll_direction: up, down, left or right.");
                }
                var amount = Integer(arguments, "scroll_amount") ?? 3;
                return amount is < 1 or > 50
                    ? throw new ToolException("scroll_amount must be 1–50.")
                    : new ComputerAction(name, coordinate, Text: text is null ? null : KeyNames(text), ScrollDirection: direction, ScrollAmount: amount);
            case "wait":
                return new ComputerAction(name, Duration: Seconds(arguments, required: false));
            case "zoom":
                return new ComputerAction(name, Region: ReadRegion(arguments, display));
            default:
                return new ComputerAction(name);
        }
    }

    /// <summary>True for actions that change nothing on the screen (no <c>screen</c> change to report).</summary>
    public bool IsReadOnly => Name is "screenshot" or "cursor_position" or "zoom" or "wait";

    private static string KeyNames(string text)
    {
        var trimmed = text.Trim();
        return KeyPattern().IsMatch(trimmed)
            ? trimmed
            : throw new ToolException($"'{text}' is not a key: use xdotool key names joined with + (e.g. ctrl+alt+t, Return, shift+Tab), several separated by spaces.");
    }

    private static (int X, int Y)? Point(JsonObject arguments, string name, ComputerDisplay display)
    {
        if (arguments[name] is null)
        {
            return null;
        }
        if (arguments[name] is not JsonArray { Count: 2 } pair || Int(pair[0]) is not { } x || Int(pair[1]) is not { } y)
        {
            throw new ToolException($"{name} must be [x, y], two integers.");
        }
        display.Check(x, y, name);
        return (x, y);
    }

    private static int[] ReadRegion(JsonObject arguments, ComputerDisplay display)
    {
        if (arguments["region"] is not JsonArray { Count: 4 } region || region.Select(Int).ToArray() is not [{ } x0, { } y0, { } x1, { } y1])
        {
            throw new ToolException("zoom needs region: [x0, y0, x1, y1], four integers.");
        }
        display.Check(x0, y0, "region start");
        display.Check(x1, y1, "region end");
        return x1 > x0 && y1 > y0 ? [x0, y0, x1, y1] : throw new ToolException("region must have x0 < x1 and y0 < y1.");
    }

    private static double Seconds(JsonObject arguments, bool required)
    {
        if (arguments["duration"] is not JsonValue value || !value.TryGetValue<double>(out var seconds))
        {
            return required ? throw new ToolException("duration (seconds) is required.") : 1;
        }
        return seconds is >= 0 and <= 60 ? seconds : throw new ToolException("duration must be 0–60 seconds.");
    }

    private static int? Integer(JsonObject arguments, string name) => arguments[name] is null ? null
        : Int(arguments[name]) ?? throw new ToolException($"{name} must be an integer.");

    /// <summary>A JSON number that is whole and fits an <see cref="int"/> (some models send 12.0 for 12); null for anything else.</summary>
    internal static int? Int(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }
        if (value.TryGetValue<int>(out var number))
        {
            return number;
        }
        return value.TryGetValue<double>(out var real) && real == Math.Floor(real) && Math.Abs(real) < int.MaxValue ? (int)real : null;
    }

    private static string? String(JsonObject arguments, string name) =>
        arguments[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static ToolException Missing(string action, string field) => new($"{action} needs {field}.");

    // xdotool key names (keysyms such as Return, KP_Enter, ctrl, super, F5), joined by + for a chord, chords separated by spaces.
    [GeneratedRegex(@"\A[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*( [A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*)*\z")]
    private static partial Regex KeyPattern();
}
