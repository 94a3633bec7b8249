using System.Net;
using System.Text.Json.Nodes;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Sessions;

/// <summary><c>GET /sessions/{id}/events</c>: the wire of README "Live events", against the real API, Postgres and Redis.</summary>
[Collection(RaworcAppCollection.Name)]
public sealed class EventStreamTests(RaworcAppFixture fixture)
{
    [Fact]
    public async Task AReconnectInTheMiddleOfABurstOfAHundredMessagesReceivesEachExactlyOnceInOrder()
    {
        var (_, client) = await fixture.CreateOperatorAsync("burst");
        using var _ = client;
        var session = (await client.CreateSessionAsync()).Id().ToString();
        using var host = fixture.CreateHostClient(Guid.Parse(session));

        var received = new List<(string Id, string MessageId)>();
        var first = await EventStreamClient.OpenAsync(client, session);
        // Four posters at once, 25 messages each: the stream sees them interleaved, as they commit.
        var burst = Task.WhenAll(Enumerable.Range(0, 4).Select(async poster =>
        {
            for (var i = 0; i < 25; i++)
            {
                await host.PostOkAsync($"/api/v0/sessions/{session}/messages", new { content = $"p{poster}-{i}" });
            }
        }));
        await using (first)
        {
            while (received.Count < 30)
            {
                var (type, id, data) = await first.NextAsync();
                Assert.Equal("message", type);
                received.Add((id, (string)data["id"]!));
            }
        }
        await using (var second = await EventStreamClient.OpenAsync(client, session, lastEventId: received[^1].Id))
        {
            while (received.Count < 100)
            {
                var (type, id, data) = await second.NextAsync();
                Assert.Equal("message", type);
                received.Add((id, (string)data["id"]!));
            }
        }
        await burst.WaitAsync(TimeSpan.FromSeconds(60));

        var stored = await client.GetMessagesAsync(session, "?limit=1000");
        Assert.Equal(stored.Select(m => (string)m!["id"]!), received.Select(r => r.MessageId));
        var positions = received.Select(r => long.Parse(r.Id)).ToArray();
        Assert.Equal(positions.Order().Distinct(), positions);
    }

    [Fact]
    public async Task StateChangesAndMessagesArriveInTheOrderTheyHappenedAndReplayAlike()
    {
        var (_, client) = await fixture.CreateOperatorAsync("watcher");
        using var _ = client;
        var session = (await client.CreateSessionAsync()).Id().ToString();
        using var host = fixture.CreateHostClient(Guid.Parse(session));
        // Stored before the stream opens: not sent (a stream without a resume id starts at "now").
        await host.PostOkAsync($"/api/v0/sessions/{session}/messages", new { content = "before the stream" });
        var live = new List<(string Type, string Id, JsonObject Data)>();

        await using (var stream = await EventStreamClient.OpenAsync(client, session))
        {
            await host.PostOkAsync($"/api/v0/sessions/{session}/idle");
            await client.PostOkAsync($"/api/v0/sessions/{session}/messages", new { content = "hello" });
            await host.PostOkAsync($"/api/v0/sessions/{session}/messages", new { content = "clicked", metadata = new { tool = "computer" } });
            await host.PostOkAsync($"/api/v0/sessions/{session}/messages", new { content = "done", metadata = new { type = "response" } });
            await host.PostOkAsync($"/api/v0/sessions/{session}/idle");
            while (live.Count < 7)
            {
                live.Add(await stream.NextAsync());
            }
        }

        Assert.Equal(
            ["state:idle", "message:user:hello", "state:busy", "message:host:clicked", "screen", "message:host:done", "state:idle"],
            live.Select(Describe));
        // A screen event reuses the id of the message that caused it; every other id is new and larger.
        Assert.Equal(live[3].Id, live[4].Id);
        var ids = live.Where(e => e.Type != "screen").Select(e => long.Parse(e.Id)).ToArray();
        Assert.Equal(ids.Order().Distinct(), ids);
        Assert.Equal(await client.GetSessionAsync(session), live[6].Data, JsonNode.DeepEquals);
        Assert.Equal(Guid.Parse(session), Guid.Parse((string)live[4].Data["session_id"]!));

        // Replayed from the first event on (?after=), the same events come again, except the live-only screen.
        await using var replay = await EventStreamClient.OpenAsync(client, session, query: $"?after={live[0].Id}");
        var replayed = new List<(string Type, string Id, JsonObject Data)>();
        while (replayed.Count < 5)
        {
            replayed.Add(await replay.NextAsync());
        }
        Assert.Equal(live.Skip(1).Where(e => e.Type != "screen").Select(e => (Describe(e), e.Id)), replayed.Select(e => (Describe(e), e.Id)));
    }

    [Fact]
    public async Task OwnerAdminAndReadersOfAPublishedSessionMayWatchItButNoOtherOperator()
    {
        var (_, owner) = await fixture.CreateOperatorAsync("shown");
        var (_, other) = await fixture.CreateOperatorAsync("nosy");
        using var admin = await fixture.AdminClientAsync();
        using var _ = owner;
        using var __ = other;
        var session = (await owner.CreateSessionAsync()).Id().ToString();

        await (await EventStreamClient.OpenAsync(owner, session)).DisposeAsync();
        await (await EventStreamClient.OpenAsync(admin, session)).DisposeAsync();
        await (await EventStreamClient.SendAsync(other, session)).AssertErrorAsync(404, "NOT_FOUND");

        await owner.PostOkAsync($"/api/v0/sessions/{session}/publish");
        await (await EventStreamClient.OpenAsync(other, session)).DisposeAsync();
    }

    [Fact]
    public async Task UnpublishingEndsTheStreamOfAReaderWhoSawTheSessionOnlyBecauseItWasPublishedAndItsReconnectIsRefused()
    {
        var (_, owner) = await fixture.CreateOperatorAsync("publisher");
        var (_, reader) = await fixture.CreateOperatorAsync("onlooker");
        using var _ = owner;
        using var __ = reader;
        var session = (await owner.CreateSessionAsync()).Id().ToString();
        using var host = fixture.CreateHostClient(Guid.Parse(session));
        await owner.PostOkAsync($"/api/v0/sessions/{session}/publish");
        await using var ownerStream = await EventStreamClient.OpenAsync(owner, session);
        await using var readerStream = await EventStreamClient.OpenAsync(reader, session);
        await host.PostOkAsync($"/api/v0/sessions/{session}/messages", new { content = "while published" });
        var seen = await readerStream.NextAsync();

        await owner.PostOkAsync($"/api/v0/sessions/{session}/unpublish");
        await host.PostOkAsync($"/api/v0/sessions/{session}/messages", new { content = "after the unpublish" });

        Assert.Equal("message:host:while published", Describe(seen));
        Assert.True(await readerStream.EndedAsync(), "the reader's stream went on after the unpublish");
        await (await EventStreamClient.SendAsync(reader, session, lastEventId: seen.Id)).AssertErrorAsync(404, "NOT_FOUND");
        // The owner's stream goes on.
        Assert.Equal(["message:host:while published", "message:host:after the unpublish"],
            new[] { Describe(await ownerStream.NextAsync()), Describe(await ownerStream.NextAsync()) });
    }

    [Fact]
    public async Task StateChangesOlderThanTheRetentionArePrunedDownToTheLastOneBeforeTheWindowAndAReplayShowsWhatIsKept()
    {
        var (_, client) = await fixture.CreateOperatorAsync("longlived");
        using var _ = client;
        var id = (await client.CreateSessionAsync()).Id();
        var session = id.ToString();
        using var host = fixture.CreateHostClient(id);
        await host.PostOkAsync($"/api/v0/sessions/{session}/idle");
        await client.PostOkAsync($"/api/v0/sessions/{session}/messages", new { content = "first turn" });
        await host.PostOkAsync($"/api/v0/sessions/{session}/idle");
        await client.PostOkAsync($"/api/v0/sessions/{session}/messages", new { content = "second turn" });
        await host.PostOkAsync($"/api/v0/sessions/{session}/idle");
        const string Changes = "SELECT seq FROM state_changes WHERE session_id = @id ORDER BY seq";
        // idle, busy, idle, busy, idle
        var changes = await fixture.QueryAsync<long>(Changes, ("id", id));
        Assert.Equal(5, changes.Count);

        // The first three fall out of the retention window (Events:StateChangeRetentionDays, 7 by default).
        await fixture.QueryAsync<long>(
            "UPDATE state_changes SET created_at = created_at - interval '8 days' WHERE session_id = @id AND seq <= @last RETURNING seq",
            ("id", id), ("last", changes[2]));

        await Waits.UntilAsync(async () => (await fixture.QueryAsync<long>(Changes, ("id", id))).SequenceEqual(changes.Skip(2)),
            "the state changes superseded before the window are pruned");
        await using var replay = await EventStreamClient.OpenAsync(client, session, query: "?after=0");
        var replayed = new List<(string Type, string Id, JsonObject Data)>();
        while (replayed.Count < 5)
        {
            replayed.Add(await replay.NextAsync());
        }
        Assert.Equal(["message:user:first turn", "state:idle", "message:user:second turn", "state:busy", "state:idle"], replayed.Select(Describe));
        Assert.Equal(changes.Skip(2), replayed.Where(e => e.Type == "state").Select(e => long.Parse(e.Id)));
    }

    [Fact]
    public async Task DeletingTheSessionSendsDeletedAndEndsTheStream()
    {
        var (_, client) = await fixture.CreateOperatorAsync("ender");
        using var _ = client;
        var session = (await client.CreateSessionAsync()).Id().ToString();
        using var host = fixture.CreateHostClient(Guid.Parse(session));
        await using var stream = await EventStreamClient.OpenAsync(client, session);
        await host.PostOkAsync($"/api/v0/sessions/{session}/messages", new { content = "last words" });
        var last = await stream.NextAsync();

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v0/sessions/{session}")).StatusCode);

        var (type, id, data) = await stream.NextAsync();
        Assert.Equal(("deleted", last.Id, session), (type, id, (string)data["session_id"]!));
        Assert.True(await stream.EndedAsync());
    }

    [Theory]
    [InlineData("abc", "")]
    [InlineData("-1", "")]
    [InlineData(null, "?after=1.5")]
    public async Task AMalformedEventIdIsABadRequest(string? lastEventId, string query)
    {
        var (_, client) = await fixture.CreateOperatorAsync("resumer");
        using var _ = client;
        var session = (await client.CreateSessionAsync()).Id().ToString();
        await (await EventStreamClient.SendAsync(client, session, lastEventId, query)).AssertErrorAsync(400, "BAD_REQUEST");
    }

    private static string Describe((string Type, string Id, JsonObject Data) e) => e.Type switch
    {
        "message" => $"message:{e.Data["role"]}:{e.Data["content"]}",
        "state" => $"state:{e.Data["state"]}",
        _ => e.Type,
    };
}
