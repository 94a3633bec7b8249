using Microsoft.EntityFrameworkCore;

namespace Raworc.ApiService.Computers;

/// <summary>How a new session takes a computer of the warm pool (see README, "Warm pool").</summary>
public static class WarmPoolClaims
{
    /// <summary>
    /// Takes one started computer of the current settings (<paramref name="fingerprint"/>) out of the pool, inside the
    /// caller's transaction: its row is deleted and stays locked until the caller commits, so a concurrent claim skips it
    /// (<c>FOR UPDATE SKIP LOCKED</c>) and a rolled-back create puts it back. Computers whose agent is already waiting on
    /// the claim route come first, then the oldest. The caller gives the new session the returned row's id.
    /// </summary>
    /// <returns>The claimed computer, or null when none is ready (the caller then starts a computer as usual).</returns>
    public static async Task<WarmComputer?> TryClaimAsync(RaworcDbContext db, string fingerprint, CancellationToken cancellationToken) =>
        (await db.WarmComputers.FromSql(ResultColumns.Inline($"""
            DELETE FROM warm_computers WHERE id = (
              SELECT id FROM warm_computers
              WHERE fingerprint = {fingerprint} AND container_id IS NOT NULL
              ORDER BY ready_at IS NULL, created_at
              LIMIT 1
              FOR UPDATE SKIP LOCKED)
            RETURNING {ResultColumns.Of<WarmComputer>(db)}
            """)).AsNoTracking().ToListAsync(cancellationToken)).FirstOrDefault();
}
