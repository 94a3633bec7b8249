using System.Diagnostics;
using System.Globalization;

namespace Raworc.HostAgent.Tools;

/// <summary>
/// The <c>computer</c> tool: acts on the session's desktop (X display <c>DISPLAY</c>) with <c>xdotool</c> and takes
/// screenshots with ImageMagick's <c>import</c>, scaled to <see cref="ComputerDisplay.ScaledWidth"/>×
/// <see cref="ComputerDisplay.ScaledHeight"/>. Every action but <c>cursor_position</c> answers with a screenshot taken
/// after a short settle time. The PNG goes only to the model: it is never stored in a message or a log.
/// </summary>
/// <param name="display">The screen and the model's view of it.</param>
/// <param name="settle">How long to let the screen update after an action before the screenshot (default 0.5 s).</param>
public sealed class ComputerTool(ComputerDisplay display, TimeSpan? settle = null)
{
    /// <summary>The tool's name, as Anthropic's computer-use tool requires.</summary>
    public const string Name = "computer";

    /// <summary>The most bytes of one screenshot (a 32-bit uncompressed screen plus 64 KiB).</summary>
    public int MaxImageBytes => 4 * display.Width * display.Height + 64 * 1024;

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly TimeSpan _settle = settle ?? TimeSpan.FromMilliseconds(500);

    /// <summary>The display the tool acts on.</summary>
    public ComputerDisplay Display => display;

    /// <summary>Carries out one action.</summary>
    /// <returns>Text for the model (what was done, or the cursor position) and, except for <c>cursor_position</c>, a PNG.</returns>
    /// <exception cref="ToolException">A desktop program failed; the message says which and why.</exception>
    public async Task<ToolResult> RunAsync(ComputerAction action, CancellationToken cancellationToken)
    {
        switch (action.Name)
        {
            case "screenshot":
                return await ScreenshotAsync("Screenshot.", cancellationToken);
            case "zoom":
                return await ZoomAsync(action.Region!, cancellationToken);
            case "cursor_position":
                var location = await XdotoolAsync(["getmouselocation", "--shell"], cancellationToken);
                var (x, y) = display.FromScreen(ShellValue(location, "X"), ShellValue(location, "Y"));
                return new ToolResult($"X={x},Y={y}", 0);
            case "wait":
                await Task.Delay(TimeSpan.FromSeconds(action.Duration), cancellationToken);
                return await ScreenshotAsync($"Waited {action.Duration.ToString(CultureInfo.InvariantCulture)} s.", cancellationToken);
        }

        await ActAsync(action, cancellationToken);
        await Task.Delay(_settle, cancellationToken);
        return await ScreenshotAsync($"Done: {Describe(action)}.", cancellationToken);
    }

    /// <summary>A one-line account of an action, for the messages: the action and its coordinates or text.</summary>
    public static string Describe(ComputerAction action) => action.Name + action switch
    {
        { Start: { } s, Coordinate: { } c } => $" ({s.X}, {s.Y}) → ({c.X}, {c.Y})",
        { Name: "type", Text: { } t } => " " + (t.Length > 200 ? t[..200] + "…" : t).ReplaceLineEndings("⏎"),
        { Coordinate: { } c, Text: { } k } => $" ({c.X}, {c.Y}) with {k}",
        { Coordinate: { } c } => $" ({c.X}, {c.Y})",
        { ScrollDirection: { } d } => $" {d} {action.ScrollAmount}",
        { Region: [var x0, var y0, var x1, var y1] } => $" ({x0}, {y0})–({x1}, {y1})",
        { Text: { } k } => " " + k,
        _ => "",
    };

    private async Task ActAsync(ComputerAction action, CancellationToken cancellationToken)
    {
        var commands = new List<string>();
        if (action.Coordinate is { } target && action.Name != "left_click_drag")
        {
            var (x, y) = display.ToScreen(target.X, target.Y);
            commands.AddRange(["mousemove", "--sync", Num(x), Num(y)]);
        }

        var modifiers = action.Name is "key" or "hold_key" or "type" ? null : action.Text?.Split(' ', '+');
        foreach (var modifier in modifiers ?? [])
        {
            commands.AddRange(["keydown", modifier]);
        }

        switch (action.Name)
        {
            case "left_click": commands.AddRange(["click", "1"]); break;
            case "right_click": commands.AddRange(["click", "3"]); break;
            case "middle_click": commands.AddRange(["click", "2"]); break;
            case "double_click": commands.AddRange(["click", "--repeat", "2", "--delay", "100", "1"]); break;
            case "triple_click": commands.AddRange(["click", "--repeat", "3", "--delay", "100", "1"]); break;
            case "left_mouse_down": commands.AddRange(["mousedown", "1"]); break;
            case "left_mouse_up": commands.AddRange(["mouseup", "1"]); break;
            case "left_click_drag":
                var (sx, sy) = display.ToScreen(action.Start!.Value.X, action.Start.Value.Y);
                var (ex, ey) = display.ToScreen(action.Coordinate!.Value.X, action.Coordinate.Value.Y);
                commands.AddRange(["mousemove", "--sync", Num(sx), Num(sy), "mousedown", "1",
                    "mousemove", "--sync", Num(ex), Num(ey), "mouseup", "1"]);
                break;
            case "scroll":
                var button = action.ScrollDirection switch { "up" => "4", "down" => "5", "left" => "6", _ => "7" };
                commands.AddRange(["click", "--repeat", Num(action.ScrollAmount), "--delay", "50", button]);
                break;
            case "key": commands.AddRange(["key", "--delay", "50", .. action.Text!.Split(' ')]); break;
            case "type": commands.AddRange(["type", "--delay", "12", "--", action.Text!]); break;
        }

        foreach (var modifier in Enumerable.Reverse(modifiers ?? []))
        {
            commands.AddRange(["keyup", modifier]);
        }

        if (action.Name == "hold_key")
        {
            await XdotoolAsync(["keydown", .. action.Text!.Split(' ')], cancellationToken, keyboard: true);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(action.Duration), cancellationToken);
            }
            finally
            {
                await XdotoolAsync(["keyup", .. action.Text!.Split(' ')], CancellationToken.None, keyboard: true);
            }
            return;
        }

        if (commands.Count > 0)
        {
            await XdotoolAsync(commands, cancellationToken, keyboard: action.Name is "key" or "type" || modifiers is not null);
        }
    }

    private async Task<ToolResult> ScreenshotAsync(string text, CancellationToken cancellationToken)
    {
        var png = await CaptureAsync(display.IsScaled ? ["-resize", $"{display.ScaledWidth}x{display.ScaledHeight}!"] : [], cancellationToken);
        var size = display.IsScaled ? $" (scaled from {display.Width}x{display.Height})" : "";
        return new ToolResult($"{text} Screenshot {display.ScaledWidth}x{display.ScaledHeight}{size}.", 0, png);
    }

    private async Task<ToolResult> ZoomAsync(int[] region, CancellationToken cancellationToken)
    {
        var (x0, y0) = display.ToScreen(region[0], region[1]);
        var (x1, y1) = display.ToScreen(region[2], region[3]);
        var (w, h) = (Math.Max(1, x1 - x0), Math.Max(1, y1 - y0));
        // The region at full resolution, enlarged or reduced to fit the size of the screenshots.
        var png = await CaptureAsync(["-crop", $"{w}x{h}+{x0}+{y0}", "+repage", "-resize", $"{display.ScaledWidth}x{display.ScaledHeight}"], cancellationToken);
        return new ToolResult($"Zoomed into ({region[0]}, {region[1]})–({region[2]}, {region[3]}).", 0, png);
    }

    private async Task<byte[]> CaptureAsync(IEnumerable<string> conversion, CancellationToken cancellationToken)
    {
        var (exit, stdout, stderr) = await RunAsync("import", ["-silent", "-window", "root", .. conversion, "png:-"], MaxImageBytes, cancellationToken);
        return exit == 0 && stdout.Length > 0
            ? stdout
            : throw new ToolException($"The screenshot failed (import exited {exit}): {stderr.Trim()}");
    }

    // xdotool cannot act while the keyboard focus is PointerRoot (after the focused window closed): give it to the root window.
    private async Task<string> XdotoolAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken, bool keyboard = false)
    {
        if (keyboard && (await RunAsync("xdotool", ["getwindowfocus"], 4096, cancellationToken)).Exit != 0)
        {
            var root = await RunAsync("xwininfo", ["-root"], 64 * 1024, cancellationToken);
            var id = System.Text.Encoding.UTF8.GetString(root.Stdout).Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)
                .FirstOrDefault(word => word.StartsWith("0x", StringComparison.Ordinal));
            if (id is not null)
            {
                await RunAsync("xdotool", ["windowfocus", id], 4096, cancellationToken);
            }
        }

        var (exit, stdout, stderr) = await RunAsync("xdotool", arguments, 64 * 1024, cancellationToken);
        return exit == 0
            ? System.Text.Encoding.UTF8.GetString(stdout)
            : throw new ToolException($"xdotool {arguments[0]} failed (exit {exit}): {stderr.Trim()}");
    }

    private static async Task<(int Exit, byte[] Stdout, string Stderr)> RunAsync(string program, IEnumerable<string> arguments,
        int maxBytes, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new ToolException($"{program} could not be started.");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new ToolException($"{program} is not installed: this computer has no desktop tools.");
        }

        using (process)
        {
            process.StandardInput.Close();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(CommandTimeout);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            using var output = new MemoryStream();
            try
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await process.StandardOutput.BaseStream.ReadAsync(buffer, timeout.Token)) > 0)
                {
                    if (output.Length + read > maxBytes)
                    {
                        throw new ToolException($"{program} wrote more than {maxBytes} bytes.");
                    }
                    output.Write(buffer, 0, read);
                }
                await process.WaitForExitAsync(timeout.Token);
                return (process.ExitCode, output.ToArray(), CappedText.Cap(await stderr, 2000));
            }
            catch (Exception ex) when (ex is OperationCanceledException or ToolException)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }
                if (cancellationToken.IsCancellationRequested || ex is ToolException)
                {
                    throw;
                }
                throw new ToolException($"{program} did not finish within {CommandTimeout.TotalSeconds} s.");
            }
        }
    }

    private static int ShellValue(string shell, string name) => shell.Split('\n')
        .Select(line => line.Split('=', 2)).Where(pair => pair.Length == 2 && pair[0] == name)
        .Select(pair => int.TryParse(pair[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : 0)
        .FirstOrDefault();

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}
