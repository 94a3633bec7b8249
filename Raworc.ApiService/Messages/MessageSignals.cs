using System.Collections.Concurrent;
using Raworc.ApiService.Redis;
using StackExchange.Redis;

namespace Raworc.ApiService.Messages;

/// <summary>
/// Wakes waiting long-polls when a message is stored, and event streams when a message is stored, the state changes or the
/// session is deleted, on this or any other replica: one Redis pattern subscription per process fans out to the
/// in-process waiters of each session (the payload says which kind of wake-up it is, see <see cref="RedisStore"/>). A session's entry lives only while
/// it has waiters: the last one to leave removes it, so the table does not grow with every session ever polled.
/// </summary>
public sealed class MessageSignals(IConnectionMultiplexer redis) : IHostedService
{
    private readonly ConcurrentDictionary<Guid, WaiterSet> _waiters = new();

    // The AsyncState of a waiter's TaskCompletionSource: set for an event stream's waiter, which every wake-up reaches.
    private static readonly object AnyWakeUp = new();

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
        if (_waiters.TryGetValue(sessionId, out var waiters))
        {
            lock (waiters)
            {
                foreach (var waiter in waiters)
                {
                    if (message || waiter.Task.AsyncState == AnyWakeUp)
                    {
                        waiter.TrySetResult();
                    }
                }
            }
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) =>
        redis.GetSubscriber().UnsubscribeAsync(RedisChannel.Pattern(RedisStore.MessageChannelPrefix + "*"));

    /// <summary>
    /// Registers interest in the next message of a session. Register before querying, then await
    /// <see cref="Waiter.Signalled"/>: a message stored between the query and the wait still wakes it.
    /// </summary>
    public Waiter Register(Guid sessionId) => Register(sessionId, anyWakeUp: false);

    /// <summary>
    /// Like <see cref="Register(Guid)"/>, for an event stream: woken also when the session's state changes or it is deleted.
    /// </summary>
    public Waiter RegisterForEvents(Guid sessionId) => Register(sessionId, anyWakeUp: true);

    private Waiter Register(Guid sessionId, bool anyWakeUp)
    {
        var source = new TaskCompletionSource(anyWakeUp ? AnyWakeUp : null, TaskCreationOptions.RunContinuationsAsynchronously);
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

    private void Unregister(Guid sessionId, TaskCompletionSource source)
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
    private sealed class WaiterSet : HashSet<TaskCompletionSource>
    {
        /// <summary>Emptied and removed from the table: no waiter may join it any more.</summary>
        public bool Retired { get; set; }
    }

    /// <summary>One registered interest; dispose to unregister.</summary>
    public sealed class Waiter(MessageSignals owner, Guid sessionId, TaskCompletionSource source) : IDisposable
    {
        /// <summary>Completes when a message of the session is stored.</summary>
        public Task Signalled => source.Task;

        /// <inheritdoc />
        public void Dispose() => owner.Unregister(sessionId, source);
    }
}
