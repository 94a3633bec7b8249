using System.Globalization;
using System.Text;
using Raworc.Client.Models;

namespace Raworc.Cli;

/// <summary>Sessions as text for a terminal: a table for lists, <c>field: value</c> lines for one session.</summary>
public static class SessionText
{
    /// <summary>
    /// One line per session under a header: <c>ID NAME STATE CREATED</c> (UTC), columns padded to the widest value;
    /// <c>-</c> for a session without a name. "No sessions." when empty.
    /// </summary>
    /// <param name="sessions">The sessions, in the order to print.</param>
    public static string Table(IReadOnlyList<Session> sessions)
    {
        if (sessions.Count == 0)
        {
            return "No sessions.";
        }
        string[][] rows = [["ID", "NAME", "STATE", "CREATED"], .. sessions.Select(s => new[] { s.Id.ToString(), s.Name ?? "-", s.State, Time(s.CreatedAt)! })];
        var widths = Enumerable.Range(0, 4).Select(column => rows.Max(row => row[column].Length)).ToArray();
        return string.Join('\n', rows.Select(row => string.Join("  ", row.Select((cell, column) => column == 3 ? cell : cell.PadRight(widths[column])))));
    }

    /// <summary>
    /// <c>field: value</c> lines in a fixed order: id, name, state, error (when errored), created_by, created_at,
    /// started_at, last_activity_at, auto_close_at, closed_at, timeout_seconds, parent_session_id, published, usage;
    /// fields without a value are left out.
    /// </summary>
    /// <param name="s">The session.</param>
    public static string Details(Session s)
    {
        var lines = new List<(string, string?)>
        {
            ("id", s.Id.ToString()), ("name", s.Name), ("state", s.State), ("error", s.Error), ("created_by", s.CreatedBy),
            ("created_at", Time(s.CreatedAt)), ("started_at", Time(s.StartedAt)), ("last_activity_at", Time(s.LastActivityAt)),
            ("auto_close_at", Time(s.AutoCloseAt)), ("closed_at", Time(s.ClosedAt)),
            ("timeout_seconds", s.TimeoutSeconds.ToString(CultureInfo.InvariantCulture)), ("parent_session_id", s.ParentSessionId?.ToString()),
            ("published", s.IsPublished ? $"yes, by {s.PublishedBy} at {Time(s.PublishedAt)}" : null),
            ("usage", s.Usage is { } u ? $"{u.ModelCalls} model calls, {u.InputTokens} input and {u.OutputTokens} output tokens" : null),
        };
        var text = new StringBuilder();
        foreach (var (field, value) in lines.Where(l => l.Item2 is not null))
        {
            text.Append(CultureInfo.InvariantCulture, $"{field + ":",-18}{value}\n");
        }
        return text.ToString().TrimEnd('\n');
    }

    private static string? Time(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
