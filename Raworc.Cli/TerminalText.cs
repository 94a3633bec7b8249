using System.Text;

namespace Raworc.Cli;

/// <summary>
/// Text that came from a session (a command's output, the Host's words) made safe to print on a terminal. A session's code
/// chooses its commands' output byte for byte, and a terminal obeys the control sequences in what it prints: ESC sequences
/// can move the cursor and overwrite earlier lines (a forged "exit 0", a hidden command), set the window title, or write
/// the clipboard (OSC 52). Printed as they were, they reached the owner's terminal, and a published session's readers'.
/// </summary>
public static class TerminalText
{
    /// <summary>
    /// <paramref name="text"/> with every control character but line feed and tab made visible: a C0 character and DEL in
    /// caret notation (ESC as <c>^[</c>, carriage return as <c>^M</c>, DEL as <c>^?</c>, as <c>cat -v</c>), a C1 character
    /// (U+0080–U+009F, which some terminals obey as ESC sequences) as U+FFFD. Everything else is unchanged.
    /// </summary>
    /// <param name="text">Text from the API; null is the empty string.</param>
    public static string Visible(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        if (!text.Any(IsHidden))
        {
            return text;
        }
        var visible = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (!IsHidden(c))
            {
                visible.Append(c);
            }
            else if (c < ' ')
            {
                visible.Append('^').Append((char)(c + '@'));
            }
            else if (c == '\u007f')
            {
                visible.Append("^?");
            }
            else
            {
                visible.Append('\uFFFD');
            }
        }
        return visible.ToString();
    }

    private static bool IsHidden(char c) => char.IsControl(c) && c is not '\n' and not '\t';
}
