using System.Net;
using Aspire.Hosting.Testing;
using Raworc.Tests.Infrastructure;
using Docker.DotNet;
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
        Assert.Equal((string?)closed["last_activity_at"], (string?)closed["closed_at"]);
    }

    [Fact]
    public async Task WritesAnswerAtOnceAndOnlyOnceWhileRedisIsAway()
    {
        var (owner, client) = await fixture.CreateOperatorAsync("outage");
        using var _ = client;
        Assert.True(fixture.App.ResourceNotifications.TryGetCurrentState(ResourceNames.Redis, out var state));
        var redis = (string)state!.Snapshot.Properties.Single(p => p.Name == "container.id").Value!;
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();

        await docker.Containers.PauseContainerAsync(redis);
        HttpResponseMessage created, posted;
        try
        {
            // Before: each write committed in Postgres, then waited for Redis and answered 503 — and a client's retry
            // made a second session or message.
            created = await client.PostAsync("/api/v0/sessions", Http.Json(new { prompt = "first" }));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var id = (await created.ReadObjectAsync()).Id();
            posted = await client.PostAsync($"/api/v0/sessions/{id}/messages", Http.Json(new { content = "second" }));
        }
        finally
        {
            await docker.Containers.UnpauseContainerAsync(redis);
        }

        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        Assert.Equal([1L], await fixture.QueryAsync<long>("SELECT count(*) FROM sessions WHERE created_by = @owner", ("owner", owner)));
        Assert.Equal([2L], await fixture.QueryAsync<long>(
            "SELECT count(*) FROM messages m JOIN sessions s ON s.id = m.session_id WHERE s.created_by = @owner", ("owner", owner)));
    }
}
