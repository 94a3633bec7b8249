using System.Collections.Concurrent;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Hands a committed claim straight to the pooled computer's claim long-poll when that long-poll waits on this replica:
/// the create gives the session it has just committed, and the claim route answers from it with no database read and no
/// trip through Redis. When the long-poll waits elsewhere (another replica, or between two polls) the create publishes
/// the session's wake-up instead, and the route reads the claim (see <see cref="WarmPoolApi"/>). One entry per waiting
/// long-poll, removed when it ends, so the table holds at most the pool's waiting computers.
/// </summary>
public sealed class WarmPoolHandoffs
{
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<Session>> _waiting = new();

    /// <summary>Registers the long-poll of the computer reserved for <paramref name="id"/>; dispose when it ends.</summary>
    /// <returns>The registration; its <see cref="Waiter.Claimed"/> completes with the claiming session.</returns>
    public Waiter Register(Guid id)
    {
        var source = new TaskCompletionSource<Session>(TaskCreationOptions.RunContinuationsAsynchronously);
        // A newer poll of the same computer (the agent retried) replaces an older one, which still ends by its wake-up or time.
        _waiting[id] = source;
        return new Waiter(this, id, source);
    }

    /// <summary>
    /// Gives <paramref name="session"/>, whose claim of its warm computer is committed, to that computer's long-poll if it
    /// waits here.
    /// </summary>
    /// <returns>True when a long-poll of this replica took it (nothing else need be woken).</returns>
    public bool TryHandOff(Session session) => _waiting.TryGetValue(session.Id, out var source) && source.TrySetResult(session);

    /// <summary>One waiting long-poll.</summary>
    public sealed class Waiter : IDisposable
    {
        private readonly WarmPoolHandoffs _owner;
        private readonly Guid _id;
        private readonly TaskCompletionSource<Session> _source;

        internal Waiter(WarmPoolHandoffs owner, Guid id, TaskCompletionSource<Session> source) => (_owner, _id, _source) = (owner, id, source);

        /// <summary>Completes with the session that claimed the computer, handed over by the create on this replica.</summary>
        public Task<Session> Claimed => _source.Task;

        /// <inheritdoc />
        public void Dispose() => _owner._waiting.TryRemove(new KeyValuePair<Guid, TaskCompletionSource<Session>>(_id, _source));
    }
}
