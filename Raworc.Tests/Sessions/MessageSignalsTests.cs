using Aspire.Hosting.Testing;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Redis;
using Raworc.Tests.Infrastructure;
using StackExchange.Redis;

namespace Raworc.Tests.Sessions;

/// <summary>The long-poll waiters of <see cref="MessageSignals"/>, woken through the AppHost's real Redis.</summary>
[Collection(RaworcAppCollection.Name)]
public sealed class MessageSignalsTests(RaworcAppFixture fixture)
{
    [Fact]
    public async Task NoSessionIsKeptOnceItsLastWaiterLeaves()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync(ResourceNames.Redis))!);
        var signals = new MessageSignals(redis);
        await signals.StartAsync(CancellationToken.None);
        try
        {
            var sessions = Enumerable.Range(0, 200).Select(_ => Guid.NewGuid()).ToArray();
            // Two polls per session: one woken by a message, one that ends without one (as a wait that times out).
            var woken = sessions.Select(signals.Register).ToArray();
            var idle = sessions.Select(signals.Register).ToArray();
            Assert.Equal(200, signals.WaitingSessions);

            foreach (var session in sessions)
            {
                await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(RedisStore.MessageChannelPrefix + session), "1");
            }
            await Task.WhenAll(woken.Select(w => w.Signalled)).WaitAsync(TimeSpan.FromSeconds(10));
            foreach (var waiter in woken)
            {
                waiter.Dispose();
            }
            Assert.Equal(200, signals.WaitingSessions);

            foreach (var waiter in idle)
            {
                waiter.Dispose();
            }
            Assert.Equal(0, signals.WaitingSessions);

            // A session that comes back after being trimmed is woken like a new one.
            using var again = signals.Register(sessions[0]);
            await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(RedisStore.MessageChannelPrefix + sessions[0]), "1");
            await again.Signalled.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            await signals.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task AWaiterArrivingWhileTheLastOneLeavesIsStillSignalled()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync(ResourceNames.Redis))!);
        var signals = new MessageSignals(redis);
        var session = Guid.NewGuid();
        for (var i = 0; i < 20_000; i++)
        {
            // The leaving waiter empties the session's entry while the arriving one registers on it.
            var leaving = signals.Register(session);
            using var start = new Barrier(2);
            var leave = Task.Run(() => { start.SignalAndWait(); leaving.Dispose(); });
            var arrive = Task.Run(() => { start.SignalAndWait(); return signals.Register(session); });
            await leave;
            using var arrived = await arrive;

            signals.Signal(session);

            Assert.True(arrived.Signalled.IsCompleted, $"the waiter that arrived in round {i} was not signalled");
            Assert.Equal(1, signals.WaitingSessions);
        }
        Assert.Equal(0, signals.WaitingSessions);
    }
}
