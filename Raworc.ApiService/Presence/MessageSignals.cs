using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Raworc.ApiService.Presence;

/// <summary>
/// Wakes waiting long-polls when a message is stored, on this or any other replica: one Redis pattern
/// subscription per process fans out to the in-process waiters of each session.
/// </summary>
public sealed class MessageSignals(IConnectionMultiplexer redis) : IHostedService
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<TaskCompletionSource, byte>> _waiters = new();

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) =>
        redis.GetSubscriber().SubscribeAsync(RedisChannel.Pattern(PresenceStore.MessageChannelPrefix + "*"), (channel, _) =>
        {
            var text = channel.ToString();
            if (Guid.TryParse(text.AsSpan(PresenceStore.MessageChannelPrefix.Length), out var sessionId)
                && _waiters.TryGetValue(sessionId, out var waiters))
            {
                foreach (var waiter in waiters.Keys)
                {
                    waiter.TrySetResult();
                }
            }
        });

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) =>
        redis.GetSubscriber().UnsubscribeAsync(RedisChannel.Pattern(PresenceStore.MessageChannelPrefix + "*"));

    /// <summary>
    /// Registers interest in the next message of a session. Register before querying, then await
    /// <see cref="Waiter.Signalled"/>: a message stored between the query and the wait still wakes it.
    /// </summary>
    public Waiter Register(Guid sessionId)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.GetOrAdd(sessionId, _ => new()).TryAdd(source, 0);
        return new Waiter(this, sessionId, source);
    }

    private void Unregister(Guid sessionId, TaskCompletionSource source)
    {
        if (_waiters.TryGetValue(sessionId, out var waiters))
        {
            waiters.TryRemove(source, out _);
        }
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
