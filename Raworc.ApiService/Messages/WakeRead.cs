using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Platform;

namespace Raworc.ApiService.Messages;

/// <summary>
/// The one database read that a wake-up of a session's long-polls costs, however many wait: every message after the
/// lowest <c>after</c> of the waiters woken together (at most <see cref="PageRequest.MaxLimit"/> of them and
/// <see cref="MessageOptions.MaxPageBytes"/> of stored text), from which each waiter cuts its own page in memory.
/// </summary>
/// <param name="AfterSeq">The sequence number the read started after.</param>
/// <param name="Rows">
/// The messages read, oldest first, with their stored size and every column a page shows, the request's trace context
/// included (the Host's page carries it: a Host woken here starts its turn in the message's trace).
/// </param>
/// <param name="Total">How many messages follow <paramref name="AfterSeq"/> in all.</param>
internal sealed record WakeRead(long AfterSeq, IReadOnlyList<WakeRead.Row> Rows, long Total)
{
    /// <summary>A message and its stored size (UTF-8 bytes of content plus metadata JSON, as <see cref="MessagePages"/> counts it).</summary>
    /// <param name="Message">The message.</param>
    /// <param name="Size">Its stored size in bytes.</param>
    public sealed record Row(Message Message, long Size);

    /// <summary>Reads the messages of <paramref name="sessionId"/> after <paramref name="afterSeq"/> in one statement.</summary>
    public static async Task<WakeRead> LoadAsync(RaworcDbContext db, Guid sessionId, long afterSeq, int maxBytes, CancellationToken cancellationToken)
    {
        var rows = await db.Database.SqlQuery<Loaded>($"""
            SELECT id, seq, session_id, role, content, metadata, created_at, trace_parent, size, total
            FROM (
                SELECT id, seq, session_id, role, content, metadata::text AS metadata, created_at, trace_parent,
                       (octet_length(content) + octet_length(metadata::text))::bigint AS size,
                       sum(octet_length(content) + octet_length(metadata::text)) OVER w AS running,
                       row_number() OVER w AS n,
                       count(*) OVER () AS total
                FROM messages
                WHERE session_id = {sessionId} AND seq > {afterSeq}
                WINDOW w AS (ORDER BY seq)
            ) after_rows
            WHERE n <= {PageRequest.MaxLimit} AND (running <= {maxBytes} OR n = 1)
            ORDER BY seq
            """).ToListAsync(cancellationToken);
        return new WakeRead(afterSeq,
            [.. rows.Select(r => new Row(new Message
            {
                Id = r.Id, Seq = r.Seq, SessionId = r.SessionId, Role = r.Role, Content = r.Content, Metadata = r.Metadata,
                CreatedAt = r.CreatedAt, TraceParent = r.TraceParent,
            }, r.Size))],
            rows.Count == 0 ? 0 : rows[0].Total);
    }

    /// <summary>
    /// The page a waiter polling after <paramref name="afterSeq"/> would have read itself (same count, size bound and
    /// headers as <see cref="MessagePages.ReadAsync"/>), or null when this read does not hold all of it (more arrived than
    /// one read carries): the waiter then reads its page itself.
    /// </summary>
    public List<Message>? TryPage(long afterSeq, PageRequest page, int maxBytes, HttpResponse response)
    {
        if (afterSeq < AfterSeq || Rows.Count < Total)
        {
            return null;
        }
        var (limit, offset) = page.Resolve();
        var candidates = Rows.Where(r => r.Message.Seq > afterSeq).ToList();
        var window = candidates.Skip(offset).Take(limit).ToList();
        var messages = new List<Message>(window.Count);
        var running = 0L;
        foreach (var row in window)
        {
            running += row.Size;
            if (running > maxBytes && messages.Count > 0)
            {
                break;
            }
            messages.Add(row.Message);
        }
        MessagePages.WriteHeaders(response, candidates.Count, offset, limit, truncated: messages.Count < window.Count);
        return messages;
    }

    private sealed record Loaded(Guid Id, long Seq, Guid SessionId, string Role, string Content, string Metadata,
        DateTimeOffset CreatedAt, string? TraceParent, long Size, long Total);
}
