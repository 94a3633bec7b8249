using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Platform;

namespace Raworc.ApiService.Messages;

/// <summary>
/// One page of a session's messages, bounded by count (<c>limit</c>) and by size (<see cref="MessageOptions.MaxPageBytes"/>).
/// Writes the contract's <c>X-Total-Count</c>, <c>X-Page-Offset</c>, <c>X-Page-Limit</c>, plus <c>X-Page-Truncated</c>:
/// <c>true</c> when the page stopped before <c>limit</c> because of its size and more messages follow.
/// </summary>
internal static class MessagePages
{
    /// <summary>The header that tells a client a page was cut by size (continue with <c>after</c> = its last id).</summary>
    public const string TruncatedHeader = "X-Page-Truncated";

    /// <summary>Reads the messages of <paramref name="sessionId"/> after sequence <paramref name="afterSeq"/>, oldest first.</summary>
    public static async Task<List<Message>> ReadAsync(RaworcDbContext db, Guid sessionId, long afterSeq, PageRequest page, int maxBytes,
        HttpResponse response, CancellationToken cancellationToken)
    {
        var (limit, offset) = page.Resolve();
        var query = db.Messages.AsNoTracking().Where(m => m.SessionId == sessionId && m.Seq > afterSeq).OrderBy(m => m.Seq);
        var total = await query.CountAsync(cancellationToken);
        // Sizes are summed in Postgres (octet_length reads a stored text's length without loading it), so only the
        // messages that fit are ever loaded; the first always fits, so a page is never empty while messages remain.
        var fit = await db.Database.SqlQuery<PageFit>($"""
            SELECT count(*)::int AS rows,
                   (count(*) FILTER (WHERE running <= {maxBytes} OR n = 1))::int AS fitting
            FROM (
                SELECT row_number() OVER w AS n,
                       sum(octet_length(content) + octet_length(metadata::text)) OVER w AS running
                FROM (SELECT seq, content, metadata FROM messages
                      WHERE session_id = {sessionId} AND seq > {afterSeq}
                      ORDER BY seq OFFSET {offset} LIMIT {limit}) window_rows
                WINDOW w AS (ORDER BY seq)
            ) sized
            """).SingleAsync(cancellationToken);
        var messages = fit.Fitting == 0 ? [] : await query.Skip(offset).Take(fit.Fitting).ToListAsync(cancellationToken);

        WriteHeaders(response, total, offset, limit, truncated: fit.Fitting < fit.Rows);
        return messages;
    }

    /// <summary>Writes the page headers: <c>X-Total-Count</c>, <c>X-Page-Offset</c>, <c>X-Page-Limit</c>, <see cref="TruncatedHeader"/>.</summary>
    public static void WriteHeaders(HttpResponse response, long total, int offset, int limit, bool truncated)
    {
        response.Headers["X-Total-Count"] = total.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-Page-Offset"] = offset.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-Page-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
        response.Headers[TruncatedHeader] = truncated ? "true" : "false";
    }

    /// <summary>How many messages the requested window holds, and how many of them fit the size bound.</summary>
    private sealed record PageFit(int Rows, int Fitting);
}
