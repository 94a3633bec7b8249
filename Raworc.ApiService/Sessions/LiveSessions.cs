using Microsoft.EntityFrameworkCore;

namespace Raworc.ApiService.Sessions;

/// <summary>
/// The one query the background loops share about live sessions, those in <see cref="SessionQuotas.LiveStates"/> (init,
/// idle, busy: holding a computer or about to): which of the sessions whose computers or volumes a loop found are live.
/// </summary>
public static class LiveSessions
{
    /// <summary>
    /// The ids among <paramref name="ids"/> of sessions that are live now, read in one query without tracking; ids of
    /// sessions that are closed, errored or gone are left out.
    /// </summary>
    /// <param name="sessions">The sessions table.</param>
    /// <param name="ids">Session ids, typically taken from the engine's containers or volumes.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    public static Task<List<Guid>> LiveIdsAsync(this DbSet<Session> sessions, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken) =>
        sessions.AsNoTracking().Where(s => ids.Contains(s.Id) && SessionQuotas.LiveStates.Contains(s.State))
            .Select(s => s.Id).ToListAsync(cancellationToken);
}
