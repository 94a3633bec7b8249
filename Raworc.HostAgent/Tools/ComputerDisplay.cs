using System.Globalization;

namespace Raworc.HostAgent.Tools;

/// <summary>
/// The desktop's screen and the screen the model sees. Screenshots go to the model scaled down to fit the provider's
/// recommended box (<see cref="AnthropicBox"/> or <see cref="OpenAIBox"/>, aspect ratio kept, never enlarged); the model's
/// coordinates are in that scaled space and are mapped back to the screen here.
/// </summary>
/// <param name="Width">Screen width in pixels (the X display's).</param>
/// <param name="Height">Screen height in pixels.</param>
/// <param name="ScaledWidth">Width of the screenshots the model gets; its x coordinates are 0 … <c>ScaledWidth - 1</c>.</param>
/// <param name="ScaledHeight">Height of the screenshots the model gets; its y coordinates are 0 … <c>ScaledHeight - 1</c>.</param>
public sealed record ComputerDisplay(int Width, int Height, int ScaledWidth, int ScaledHeight)
{
    /// <summary>Key under which a tool's display is found in an <c>AIFunction</c>'s additional properties.</summary>
    public const string PropertyName = "raworc.computer_display";

    /// <summary>Anthropic's recommended largest screenshot (WXGA): its computer-use models are trained at or below it.</summary>
    public static readonly (int Width, int Height) AnthropicBox = (1280, 800);

    /// <summary>For OpenAI-compatible models: XGA, which a high-detail image input takes without further downscaling.</summary>
    public static readonly (int Width, int Height) OpenAIBox = (1024, 768);

    /// <summary>
    /// The display for a <c>WIDTHxHEIGHT</c> size (<c>RAWORC_DESKTOP_SIZE</c>) scaled into <paramref name="box"/>;
    /// null when <paramref name="size"/> is empty or malformed.
    /// </summary>
    public static ComputerDisplay? Parse(string? size, (int Width, int Height) box)
    {
        var parts = size?.Split('x');
        if (parts is not [var w, var h]
            || !int.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out var width)
            || !int.TryParse(h, NumberStyles.None, CultureInfo.InvariantCulture, out var height)
            || width <= 0 || height <= 0)
        {
            return null;
        }

        var scale = Math.Min(1.0, Math.Min((double)box.Width / width, (double)box.Height / height));
        return new ComputerDisplay(width, height, Math.Max(1, (int)Math.Round(width * scale)), Math.Max(1, (int)Math.Round(height * scale)));
    }

    /// <summary>True when screenshots are sent at the screen's own size.</summary>
    public bool IsScaled => ScaledWidth != Width || ScaledHeight != Height;

    /// <summary>The screen pixel of a model coordinate (already checked with <see cref="Check"/>).</summary>
    public (int X, int Y) ToScreen(int x, int y) => (
        Math.Min(Width - 1, (int)Math.Round(x * (double)Width / ScaledWidth)),
        Math.Min(Height - 1, (int)Math.Round(y * (double)Height / ScaledHeight)));

    /// <summary>The model coordinate of a screen pixel (for <c>cursor_position</c>).</summary>
    public (int X, int Y) FromScreen(int x, int y) => (
        Math.Clamp((int)Math.Round(x * (double)ScaledWidth / Width), 0, ScaledWidth - 1),
        Math.Clamp((int)Math.Round(y * (double)ScaledHeight / Height), 0, ScaledHeight - 1));

    /// <summary>Refuses a coordinate outside the screen the model sees.</summary>
    /// <exception cref="ToolException">x or y is negative or past the scaled screen's edge; the message says the bounds.</exception>
    public void Check(int x, int y, string name)
    {
        if (x < 0 || y < 0 || x >= ScaledWidth || y >= ScaledHeight)
        {
            throw new ToolException(
                $"{name} ({x}, {y}) is off the screen: x must be 0–{ScaledWidth - 1} and y 0–{ScaledHeight - 1}.");
        }
    }
}
