using System.Globalization;
using System.Runtime.CompilerServices;
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

    /// <summary>
    /// Reads the messages of <paramref name="sessionId"/> strictly between sequences <paramref name="afterSeq"/> and
    /// <paramref name="beforeSeq"/>, oldest first, or newest first when <paramref name="newestFirst"/> (then
    /// <c>offset</c> counts from the newest). Either order reads only the rows of the page through the
    /// <c>(session_id, seq)</c> index.
    /// </summary>
    public static async Task<List<Message>> ReadAsync(RaworcDbContext db, Guid sessionId, long afterSeq, long beforeSeq, bool newestFirst,
        PageRequest page, int maxBytes, HttpResponse response, CancellationToken cancellationToken)
    {
        var (limit, offset) = page.Resolve();
        var range = db.Messages.AsNoTracking().Where(m => m.SessionId == sessionId && m.Seq > afterSeq && m.Seq < beforeSeq);
        var query = newestFirst ? range.OrderByDescending(m => m.Seq) : range.OrderBy(m => m.Seq);
        var total = await range.CountAsync(cancellationToken);
        // Sizes are summed in Postgres (octet_length reads a stored text's length without loading it), so only the
        // messages that fit are ever loaded; the first always fits, so a page is never empty while messages remain.
        // The direction is one of two literals; every value is a parameter.
        var direction = newestFirst ? "DESC" : "ASC";
        var fit = await db.Database.SqlQuery<PageFit>(FormattableStringFactory.Create($$"""
            SELECT count(*)::int AS rows,
                   (count(*) FILTER (WHERE running <= {0} OR n = 1))::int AS fitting
            FROM (
                SELECT row_number() OVER w AS n,
                       sum(octet_length(content) + octet_length(metadata::text)) OVER w AS running
                FROM (SELECT seq, content, metadata FROM messages
                      WHERE session_id = {1} AND seq > {2} AND seq < {3}
                      ORDER BY seq {{direction}} OFFSET {4} LIMIT {5}) window_rows
                WINDOW w AS (ORDER BY seq {{direction}})
            ) sized
            """, maxBytes, sessionId, afterSeq, beforeSeq, offset, limit)).SingleAsync(cancellationToken);
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
