using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Redis;

namespace Raworc.ApiService.Work;

/// <summary>Queues computer work and lets one worker at a time claim each item.</summary>
public sealed class WorkQueue(RaworcDbContext db, RedisStore presence, TimeProvider clock)
{
    /// <summary>
    /// Removes the session's items no worker holds (a deleted session needs no create or restore); an item under a live
    /// lease stays, so the delete queued after it waits for it. Run inside the caller's transaction.
    /// </summary>
    public Task<int> DropPendingAsync(Guid sessionId, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync($"""
            DELETE FROM work_items WHERE id IN
              (SELECT id FROM work_items WHERE session_id = {sessionId}
                 AND (lease_expires_at IS NULL OR lease_expires_at < {clock.GetUtcNow()})
               FOR UPDATE SKIP LOCKED)
            """, cancellationToken);

    /// <summary>Adds an item to the context (saved with the caller's transaction), carrying the current trace's context.</summary>
    public WorkItem Add(Guid sessionId, string kind, string payload = "{}")
    {
        var now = clock.GetUtcNow();
        var item = new WorkItem
        {
            SessionId = sessionId, Kind = kind, Payload = payload, CreatedAt = now, NotBefore = now, TraceParent = Platform.Telemetry.CurrentTraceParent(),
        };
        db.WorkItems.Add(item);
        return item;
    }

    /// <summary>Wakes the workers (after the item committed); a hint that never throws (workers also poll).</summary>
    public void Signal() => presence.PublishWork();

    /// <summary>
    /// Claims the oldest ready item whose session has no older item, and commits the claim at once: the item gets a lease
    /// of <paramref name="lease"/> (its end is the returned item's <see cref="WorkItem.LeaseExpiresAt"/>, whole
    /// microseconds as Postgres keeps it) and no transaction or row lock is held while the worker talks to the engine. Two
    /// workers never claim the same item (<c>FOR UPDATE SKIP LOCKED</c> on the pick); an item whose lease ran out is ready
    /// again; a later item of the same session waits until this one is removed. Returns null when nothing is ready.
    /// </summary>
    public async Task<WorkItem?> ClaimAsync(TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = Microseconds(clock.GetUtcNow());
        var until = Microseconds(now + lease);
        // The run is recorded in the claiming statement itself: no claim without its row, and no row without a claim.
        var claimed = (await db.WorkItems.FromSql(ResultColumns.Inline($"""
            WITH claimed AS (
              UPDATE work_items SET lease_expires_at = {until}
              WHERE id = (
                SELECT w.id FROM work_items w
                WHERE w.not_before <= {now}
                  AND (w.lease_expires_at IS NULL OR w.lease_expires_at < {now})
                  AND NOT EXISTS (SELECT 1 FROM work_items older WHERE older.session_id = w.session_id AND older.id < w.id)
                ORDER BY w.id
                LIMIT 1
                FOR UPDATE SKIP LOCKED)
              RETURNING {ResultColumns.Of<WorkItem>(db)}),
            run AS (
              INSERT INTO work_runs (work_item_id, session_id, kind, worker, started_at)
              SELECT id, session_id, kind, {WorkRun.ThisWorker}, {now} FROM claimed)
            SELECT * FROM claimed
            """)).AsNoTracking().ToListAsync(cancellationToken)).FirstOrDefault();
        if (claimed is not null)
        {
            claimed.ClaimedAt = now;
        }
        return claimed;
    }

    /// <summary>
    /// Moves the lease of item <paramref name="id"/> from <paramref name="heldUntil"/> (the end this worker set last) to
    /// now plus <paramref name="lease"/>. Returns the new end, or null when the item is no longer this worker's: its lease
    /// was taken by another claim (or the item is gone).
    /// </summary>
    public async Task<DateTimeOffset?> RenewAsync(long id, DateTimeOffset heldUntil, TimeSpan lease, CancellationToken cancellationToken)
    {
        var until = Microseconds(clock.GetUtcNow() + lease);
        var renewed = await db.WorkItems.Where(w => w.Id == id && w.LeaseExpiresAt == heldUntil)
            .ExecuteUpdateAsync(set => set.SetProperty(w => w.LeaseExpiresAt, until), cancellationToken);
        return renewed == 1 ? until : null;
    }

    /// <summary>
    /// Removes a finished item (its lease ends with it) and ends its open run with <paramref name="outcome"/>
    /// (<see cref="WorkRunOutcomes.Done"/> or <see cref="WorkRunOutcomes.Failed"/>), in one transaction. With
    /// <paramref name="heldUntil"/> (the lease's end this worker set last), an item another worker claimed since is left to it.
    /// <paramref name="claimedAt"/> is the claim's <see cref="WorkItem.ClaimedAt"/>: only that claim's run is ended.
    /// </summary>
    public async Task CompleteAsync(long id, CancellationToken cancellationToken, string outcome = WorkRunOutcomes.Done,
        DateTimeOffset? heldUntil = null, DateTimeOffset? claimedAt = null)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await EndRunAsync(id, claimedAt, outcome, cancellationToken);
        await db.WorkItems.Where(w => w.Id == id && (heldUntil == null || w.LeaseExpiresAt == heldUntil)).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Gives a claimed item back: no lease, tried again from <paramref name="notBefore"/>; its open run ends with
    /// <paramref name="outcome"/> (<see cref="WorkRunOutcomes.Retry"/> or <see cref="WorkRunOutcomes.Released"/>). With
    /// <paramref name="heldUntil"/> (the lease's end this worker set last), an item another worker claimed since is left to it.
    /// <paramref name="claimedAt"/> is the claim's <see cref="WorkItem.ClaimedAt"/>: only that claim's run is ended.
    /// </summary>
    public async Task ReleaseAsync(long id, int attempts, DateTimeOffset notBefore, string? lastError, CancellationToken cancellationToken,
        string outcome = WorkRunOutcomes.Retry, DateTimeOffset? heldUntil = null, DateTimeOffset? claimedAt = null)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await EndRunAsync(id, claimedAt, outcome, cancellationToken);
        await db.WorkItems.Where(w => w.Id == id && (heldUntil == null || w.LeaseExpiresAt == heldUntil)).ExecuteUpdateAsync(set => set
            .SetProperty(w => w.LeaseExpiresAt, (DateTimeOffset?)null)
            .SetProperty(w => w.Attempts, attempts)
            .SetProperty(w => w.NotBefore, notBefore)
            .SetProperty(w => w.LastError, lastError), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>A time cut to whole microseconds, as Postgres stores it, so a lease read back compares equal to the one written.</summary>
    private static DateTimeOffset Microseconds(DateTimeOffset time) => new(time.UtcTicks - time.UtcTicks % 10, TimeSpan.Zero);

    /// <summary>
    /// Ends this worker's open run of item <paramref name="itemId"/> made by the claim of <paramref name="claimedAt"/>
    /// (<see cref="WorkItem.ClaimedAt"/>; null: every open run of the item by this process) with <paramref name="outcome"/>;
    /// the item itself is not touched. A claim abandoned after its lease ran out thus leaves alone the run of a later
    /// claim this process made of the same item. Returns how many runs it ended.
    /// </summary>
    public Task<int> EndRunAsync(long itemId, DateTimeOffset? claimedAt, string outcome, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return db.WorkRuns.Where(r => r.WorkItemId == itemId && r.Worker == WorkRun.ThisWorker && r.FinishedAt == null
                && (claimedAt == null || r.StartedAt == claimedAt))
            .ExecuteUpdateAsync(set => set.SetProperty(r => r.FinishedAt, now).SetProperty(r => r.Outcome, outcome), cancellationToken);
    }

    /// <summary>Removes runs that started before <paramref name="cutoff"/> (UTC); returns how many.</summary>
    public Task<int> PruneRunsAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        db.WorkRuns.Where(r => r.StartedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
}
