using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Redis;
using StackExchange.Redis;

namespace Raworc.ApiService.Messages;

/// <summary>
/// Wakes waiting long-polls when a message is stored, and event streams when a message is stored, the state changes or the
/// session is deleted, on this or any other replica: one Redis pattern subscription per process fans out to the
/// in-process waiters of each session (the payload says which kind of wake-up it is, see <see cref="RedisStore"/>). A session's entry lives only while
/// it has waiters: the last one to leave removes it, so the table does not grow with every session ever polled.
/// A wake-up costs one database read however many wait: the signal starts one <see cref="WakeRead"/> for the session's
/// waiting long-polls (from the lowest <c>after</c> among them) and hands it to each; no waiter holds a connection while it
/// waits. Event streams and the warm pool's claim wait without a shared read (they read for themselves).
/// </summary>
/// <param name="redis">The Redis connection whose pattern subscription carries the wake-ups of every replica.</param>
/// <param name="scopes">Scopes for the shared reads (each its own pooled context); without it (tests of the signalling alone)
/// waiters are woken with no read and read for themselves.</param>
public sealed class MessageSignals(IConnectionMultiplexer redis, IServiceScopeFactory? scopes = null) : IHostedService
{
    // A shared read that takes longer than this fails its waiters (they answer 503) rather than hold them.
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<Guid, WaiterSet> _waiters = new();

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) =>
        redis.GetSubscriber().SubscribeAsync(RedisChannel.Pattern(RedisStore.MessageChannelPrefix + "*"), (channel, value) =>
        {
            var text = channel.ToString();
            if (Guid.TryParse(text.AsSpan(RedisStore.MessageChannelPrefix.Length), out var sessionId))
            {
                Signal(sessionId, message: value != RedisStore.StateSignal && value != RedisStore.DeletedSignal);
            }
        });

    /// <summary>Sessions with at least one waiter (for tests: no entry outlives its last waiter).</summary>
    internal int WaitingSessions => _waiters.Count;

    /// <summary>
    /// Wakes the waiters of <paramref name="sessionId"/> in this process: all of them when a message of it was stored
    /// (<paramref name="message"/>), else (a state change or deletion) only event streams' waiters.
    /// </summary>
    internal void Signal(Guid sessionId, bool message = true)
    {
        if (!_waiters.TryGetValue(sessionId, out var waiters))
        {
            return;
        }
        lock (waiters)
        {
            var waiting = waiters.Where(w => !w.Source.Task.IsCompleted && (message || w.AnyWakeUp)).ToList();
            if (waiting.Count == 0)
            {
                return;
            }
            var polls = waiting.Where(w => w.AfterSeq is not null).ToList();
            var read = scopes is null || polls.Count == 0 ? null : ReadAsync(sessionId, polls.Min(w => w.AfterSeq!.Value));
            foreach (var waiter in waiting)
            {
                waiter.Read = waiter.AfterSeq is null ? null : read;
                waiter.Source.TrySetResult();
            }
        }
    }

    private async Task<WakeRead> ReadAsync(Guid sessionId, long afterSeq)
    {
        // Off the caller's thread (the Redis subscription's, or a request's): the read is awaited by the woken waiters.
        await Task.Yield();
        await using var scope = scopes!.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RaworcDbContext>();
        var maxBytes = scope.ServiceProvider.GetRequiredService<IOptions<MessageOptions>>().Value.MaxPageBytes;
        using var timeout = new CancellationTokenSource(ReadTimeout);
        return await WakeRead.LoadAsync(db, sessionId, afterSeq, maxBytes, timeout.Token);
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) =>
        redis.GetSubscriber().UnsubscribeAsync(RedisChannel.Pattern(RedisStore.MessageChannelPrefix + "*"));

    /// <summary>
    /// Registers interest in the next message of a session, with no shared read (the waiter reads for itself, if at all):
    /// register before querying, then await <see cref="Waiter.Signalled"/>.
    /// </summary>
    public Waiter Register(Guid sessionId) => Add(sessionId, new Registration(null, anyWakeUp: false));

    /// <summary>
    /// Like <see cref="Register(Guid)"/>, for an event stream: woken also when the session's state changes or it is deleted.
    /// </summary>
    public Waiter RegisterForEvents(Guid sessionId) => Add(sessionId, new Registration(null, anyWakeUp: true));

    /// <summary>
    /// Registers interest in the next message of a session. Register before querying, then await
    /// <see cref="Waiter.Signalled"/>: a message stored between the query and the wait still wakes it.
    /// </summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="afterSeq">The sequence number the waiter polls after (its <c>after</c>; 0 for the start).</param>
    public Waiter RegisterAfter(Guid sessionId, long afterSeq) => Add(sessionId, new Registration(afterSeq, anyWakeUp: false));

    private Waiter Add(Guid sessionId, Registration source)
    {
        while (true)
        {
            var waiters = _waiters.GetOrAdd(sessionId, _ => new());
            lock (waiters)
            {
                // A set emptied by the last leaving waiter is already out of the table (or on its way): take a fresh one.
                if (!waiters.Retired)
                {
                    waiters.Add(source);
                    return new Waiter(this, sessionId, source);
                }
            }
        }
    }

    private void Unregister(Guid sessionId, Registration source)
    {
        if (!_waiters.TryGetValue(sessionId, out var waiters))
        {
            return;
        }

        lock (waiters)
        {
            if (waiters.Remove(source) && waiters.Count == 0)
            {
                // Retired under the lock, so a waiter that found this set retries instead of joining a set no signal reaches.
                waiters.Retired = true;
                _waiters.TryRemove(new KeyValuePair<Guid, WaiterSet>(sessionId, waiters));
            }
        }
    }

    /// <summary>The waiters of one session; guarded by locking the set itself.</summary>
    private sealed class WaiterSet : HashSet<Registration>
    {
        /// <summary>Emptied and removed from the table: no waiter may join it any more.</summary>
        public bool Retired { get; set; }
    }

    /// <summary>
    /// A waiter's entry: its <c>after</c> (null: it takes no shared read), whether state changes and deletions wake it
    /// too (an event stream), its wake-up, and the read shared with those woken with it.
    /// </summary>
    internal sealed class Registration(long? afterSeq, bool anyWakeUp)
    {
        public long? AfterSeq { get; } = afterSeq;

        public bool AnyWakeUp { get; } = anyWakeUp;

        public TaskCompletionSource Source { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Set (under the set's lock) before <see cref="Source"/> completes.</summary>
        public Task<WakeRead>? Read { get; set; }
    }

    /// <summary>One registered interest; dispose to unregister.</summary>
    public sealed class Waiter : IDisposable
    {
        private readonly MessageSignals _owner;
        private readonly Guid _sessionId;
        private readonly Registration _source;

        internal Waiter(MessageSignals owner, Guid sessionId, Registration source) =>
            (_owner, _sessionId, _source) = (owner, sessionId, source);

        /// <summary>Completes when a message of the session is stored.</summary>
        public Task Signalled => _source.Source.Task;

        /// <summary>
        /// Once <see cref="Signalled"/> completed: the read shared by the waiters woken with this one, or null when the
        /// signals run without a database (then the waiter reads for itself).
        /// </summary>
        internal Task<WakeRead>? SharedRead => _source.Read;

        /// <inheritdoc />
        public void Dispose() => _owner.Unregister(_sessionId, _source);
    }
}
