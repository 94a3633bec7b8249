using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Presence;

namespace Raworc.ApiService.Work;

/// <summary>Queues computer work and lets one worker at a time claim each item.</summary>
public sealed class WorkQueue(RaworcDbContext db, PresenceStore presence, TimeProvider clock)
{
    /// <summary>
    /// Removes the session's items no worker holds (a deleted session needs no create or restore).
    /// Run inside the caller's transaction.
    /// </summary>
    public Task<int> DropPendingAsync(Guid sessionId, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync($"""
            DELETE FROM work_items WHERE id IN
              (SELECT id FROM work_items WHERE session_id = {sessionId} FOR UPDATE SKIP LOCKED)
            """, cancellationToken);

    /// <summary>Adds an item to the context (saved with the caller's transaction).</summary>
    public WorkItem Add(Guid sessionId, string kind, string payload = "{}")
    {
        var now = clock.GetUtcNow();
        var item = new WorkItem { SessionId = sessionId, Kind = kind, Payload = payload, CreatedAt = now, NotBefore = now };
        db.WorkItems.Add(item);
        return item;
    }

    /// <summary>Wakes the workers (after the item committed); a hint that never throws (workers also poll).</summary>
    public void Signal() => presence.PublishWork();

    /// <summary>
    /// Claims the oldest ready item whose session has no older pending item, locking it for the caller's
    /// transaction (<c>FOR UPDATE SKIP LOCKED</c>): other workers skip it, and a later item of the same
    /// session waits until this one is done. Returns null when nothing is ready.
    /// </summary>
    public async Task<WorkItem?> ClaimAsync(CancellationToken cancellationToken) =>
        (await db.WorkItems.FromSql($"""
            SELECT w.* FROM work_items w
            WHERE w.not_before <= {clock.GetUtcNow()}
              AND NOT EXISTS (SELECT 1 FROM work_items older WHERE older.session_id = w.session_id AND older.id < w.id)
            ORDER BY w.id
            LIMIT 1
            FOR UPDATE SKIP LOCKED
            """).ToListAsync(cancellationToken)).FirstOrDefault();
}
