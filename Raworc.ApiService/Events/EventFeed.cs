using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;

namespace Raworc.ApiService.Events;

/// <summary>
/// Reads a session's events (messages and state changes, in their shared <c>seq</c> order) from Postgres, sharing one read
/// among the streams of a session that wait at the same position: when a message wakes a hundred watchers of a session,
/// one query answers them all. Each read uses its own short-lived database context, so no connection is held while a
/// stream waits.
/// </summary>
public sealed class EventFeed(IServiceScopeFactory scopes, IHostApplicationLifetime lifetime)
{
    /// <summary>Most events one read returns.</summary>
    public const int MaxEventsPerRead = 100;

    /// <summary>Most bytes of stored text (content, metadata, session JSON) one read returns, beyond its first event: 1 MiB.</summary>
    public const int MaxBytesPerRead = 1024 * 1024;

    private readonly ConcurrentDictionary<(Guid Session, long After), SharedRead> _reads = new();
    private long _stamp;

    /// <summary>
    /// A point in this process's order of reads: take it after registering for wake-ups and pass it to
    /// <see cref="ReadAsync"/>, which then shares only a read that started after it (one that started earlier could have
    /// missed an event whose wake-up came before the registration).
    /// </summary>
    public long Mark() => Interlocked.Increment(ref _stamp);

    /// <summary>The events of <paramref name="sessionId"/> after <paramref name="afterSeq"/>, oldest first, bounded by
    /// <see cref="MaxEventsPerRead"/> and <see cref="MaxBytesPerRead"/> (never empty while events remain).</summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="afterSeq">The last position the caller has.</param>
    /// <param name="mark">The caller's <see cref="Mark"/>, taken after it registered for wake-ups.</param>
    /// <param name="cancellationToken">Stops the caller's wait (the shared read goes on for the others).</param>
    public Task<EventBatch> ReadAsync(Guid sessionId, long afterSeq, long mark, CancellationToken cancellationToken)
    {
        var key = (sessionId, afterSeq);
        while (true)
        {
            if (_reads.TryGetValue(key, out var current) && current.Stamp > mark)
            {
                return current.Result.Task.WaitAsync(cancellationToken);
            }
            var fresh = new SharedRead(Mark());
            if (current is null ? _reads.TryAdd(key, fresh) : _reads.TryUpdate(key, fresh, current))
            {
                _ = RunAsync(key, fresh);
                return fresh.Result.Task.WaitAsync(cancellationToken);
            }
        }
    }

    private async Task RunAsync((Guid Session, long After) key, SharedRead read)
    {
        try
        {
            read.Result.TrySetResult(await QueryAsync(key.Session, key.After, lifetime.ApplicationStopping));
        }
        catch (Exception ex)
        {
            read.Result.TrySetException(ex);
        }
        finally
        {
            _reads.TryRemove(KeyValuePair.Create(key, read));
        }
    }

    private async Task<EventBatch> QueryAsync(Guid sessionId, long afterSeq, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RaworcDbContext>();
        // One statement, so one snapshot of both tables and of the session's publication: a message and a state change
        // committed between two separate reads could otherwise be seen out of order, and a row committed after an unpublish
        // could be sent as if the session were still published. Sizes are summed in Postgres, so only what fits is loaded.
        var rows = await db.Database.SqlQuery<EventRow>($"""
            SELECT seq, kind, id, role, content, metadata, at, snapshot,
                   (SELECT s.is_published FROM sessions s WHERE s.id = {sessionId}) AS published FROM (
                SELECT e.*, row_number() OVER w AS n, sum(e.size) OVER w AS running
                FROM (
                    SELECT m.seq, 'message' AS kind, m.id, m.role, m.content, m.metadata::text AS metadata, m.created_at AS at,
                           NULL::text AS snapshot, octet_length(m.content) + octet_length(m.metadata::text) AS size
                    FROM messages m WHERE m.session_id = {sessionId} AND m.seq > {afterSeq}
                    UNION ALL
                    SELECT c.seq, 'state', NULL::uuid, NULL, NULL, NULL, c.created_at, c.session::text, octet_length(c.session::text)
                    FROM state_changes c WHERE c.session_id = {sessionId} AND c.seq > {afterSeq}
                    ORDER BY seq LIMIT {MaxEventsPerRead}
                ) e
                WINDOW w AS (ORDER BY e.seq)
            ) sized
            WHERE running <= {MaxBytesPerRead} OR n = 1
            ORDER BY seq
            """).ToListAsync(cancellationToken);
        if (rows.Count > 0)
        {
            return new EventBatch(true, rows[0].Published, rows);
        }
        // Nothing new: either the session is quiet or it is gone (its rows went with it).
        var published = await db.Sessions.Where(s => s.Id == sessionId).Select(s => (bool?)s.IsPublished).FirstOrDefaultAsync(cancellationToken);
        return new EventBatch(published is not null, published == true, rows);
    }

    /// <summary>One read in flight, and the order point it started at.</summary>
    private sealed class SharedRead(long stamp)
    {
        public long Stamp { get; } = stamp;

        public TaskCompletionSource<EventBatch> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>What one read found.</summary>
/// <param name="SessionExists">False once the session was deleted (then <paramref name="Events"/> is empty).</param>
/// <param name="IsPublished">Whether the session was published when the read ran (in the snapshot that read the events).</param>
/// <param name="Events">The events, oldest first.</param>
public sealed record EventBatch(bool SessionExists, bool IsPublished, IReadOnlyList<EventRow> Events);

/// <summary>
/// One stored event: a message (<paramref name="Kind"/> <c>message</c>, with its fields) or a state change (<c>state</c>,
/// with <paramref name="Snapshot"/>, the session's wire JSON after the change).
/// </summary>
/// <param name="Seq">Position (the event's id).</param>
/// <param name="Kind"><c>message</c> or <c>state</c>.</param>
/// <param name="Id">The message id; null for a state change.</param>
/// <param name="Role">The message role; null for a state change.</param>
/// <param name="Content">The message text; null for a state change.</param>
/// <param name="Metadata">The message metadata (JSON text); null for a state change.</param>
/// <param name="At">When it was stored (UTC).</param>
/// <param name="Snapshot">The session JSON of a state change; null for a message.</param>
/// <param name="Published">Whether the session was published in the read's snapshot (the same on every row of a read).</param>
public sealed record EventRow(long Seq, string Kind, Guid? Id, string? Role, string? Content, string? Metadata, DateTimeOffset At, string? Snapshot,
    bool Published);
