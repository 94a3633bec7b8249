using Aspire.Hosting.Testing;
using Raworc.Tests.Infrastructure;
using StackExchange.Redis;

namespace Raworc.Tests.Sessions;

[Collection(RaworcAppCollection.Name)]
public sealed class PresenceRecoveryTests(RaworcAppFixture fixture)
{
    [Fact]
    public async Task IdleDeadlinesSurviveRedisLosingItsData()
    {
        var (_, client) = await fixture.CreateOperatorAsync("amnesia");
        using var _ = client;
        var session = await client.CreateSessionAsync(new { timeout_seconds = 3 });
        using var host = fixture.CreateHostClient(session.Id());
        await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/idle");

        var connection = await fixture.App.GetConnectionStringAsync(ResourceNames.Redis);
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(connection + ",allowAdmin=true"))
        {
            foreach (var endpoint in redis.GetEndPoints())
            {
                await redis.GetServer(endpoint).FlushAllDatabasesAsync();
            }
        }

        // Re-seeded from Postgres within a few seconds, the deadline still closes the session.
        var closed = await client.WaitForStateAsync(session.Id(), "closed", TimeSpan.FromSeconds(20));
        Assert.NotNull(closed["closed_at"]);
    }
}
