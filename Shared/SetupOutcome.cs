using System.Globalization;

namespace Raworc;

/// <summary>
/// How a computer start's setup program ended, as <c>raworc-setup</c> (or the Host agent, when there is no
/// <c>code/setup.sh</c>) records it in <c>/session/logs/setup.status</c>: <c>key=value</c> lines <c>result</c>,
/// <c>exit_code</c>, <c>timeout_seconds</c>, <c>finished_at</c>. The agent sends it with its ready report
/// (<c>POST …/idle</c>, snake_case on the wire); compiled into the API and the agent so the two read the file alike. The
/// file is where the session's code can write, so readers trust only the results they name and the numbers, never text.
/// </summary>
/// <param name="Result"><c>ok</c>, <c>failed</c>, <c>timeout</c>, <c>none</c> (no script) or <c>running</c>; anything else means nothing.</param>
/// <param name="ExitCode">The script's exit status (124 or 137 after its time limit); null for <c>none</c> or when not a number.</param>
/// <param name="TimeoutSeconds">The limit the script ran under, seconds; null when not a number.</param>
public sealed record SetupOutcome(string? Result, int? ExitCode, int? TimeoutSeconds)
{
    /// <summary>
    /// Reads the file's lines (the last of a repeated key wins, so a repeat never fails the ready report); a number that is
    /// not a plain non-negative integer is null. Null or empty text gives an outcome with every field null.
    /// </summary>
    /// <param name="status">The file's text, or null when it is missing.</param>
    public static SetupOutcome Parse(string? status)
    {
        var fields = (status ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('=', 2)).Where(pair => pair.Length == 2)
            .GroupBy(pair => pair[0].Trim()).ToDictionary(group => group.Key, group => group.Last()[1].Trim());
        int? Number(string key) => fields.TryGetValue(key, out var value)
            && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null;
        return new SetupOutcome(fields.GetValueOrDefault("result"), Number("exit_code"), Number("timeout_seconds"));
    }
}
