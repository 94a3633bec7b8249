using System.Text.Json.Nodes;
using System.Net;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Sessions;

[Collection(RaworcAppCollection.Name)]
public sealed class SessionLifecycleTests(RaworcAppFixture fixture)
{
    private Task<List<string>> WorkAsync(Guid id) =>
        fixture.QueryAsync<string>("SELECT kind FROM work_items WHERE session_id = @id ORDER BY id", ("id", id));

    [Fact]
    public async Task HostReportsReadyThenBusyThenIdle()
    {
        var (_, client) = await fixture.CreateOperatorAsync("states");
        using var _ = client;
        var session = await client.CreateSessionAsync(new { timeout_seconds = 120 });
        using var host = fixture.CreateHostClient(session.Id());

        var idle = await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/idle");
        Assert.Equal("idle", (string?)idle["state"]);
        Assert.Equal((string?)idle["last_activity_at"], (string?)idle["started_at"]);
        Assert.Equal(DateTimeOffset.Parse((string)idle["last_activity_at"]!).AddSeconds(120), DateTimeOffset.Parse((string)idle["auto_close_at"]!));

        var busy = await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/busy");
        Assert.Equal("busy", (string?)busy["state"]);
        Assert.Null(busy["auto_close_at"]);
        // The Host's repeated busy is its heartbeat.
        Assert.Equal("busy", (string?)(await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/busy"))["state"]);

        Assert.Equal("idle", (string?)(await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/idle"))["state"]);
    }

    [Fact]
    public async Task AFirstReadyReportWritesTheSameSessionAndStateEventOnTheShortPathAsOnTheGeneralOne()
    {
        // A new session's first ready report takes a path of its own (one UPDATE … RETURNING, SessionTransitions.Ready.cs)
        // that repeats the general transition's columns; an owner with a session.state webhook takes the general path.
        // Whatever either writes, the other must write too.
        var (_, plain) = await fixture.CreateOperatorAsync("ready-short");
        var (_, hooked) = await fixture.CreateOperatorAsync("ready-general");
        using var _ = plain;
        using var __ = hooked;
        (await hooked.PostAsync("/api/v0/webhooks", Http.Json(new { url = "https://hooks.example.com/raworc", event_types = new[] { "session.state" } })))
            .EnsureSuccessStatusCode();

        async Task<(JsonObject Row, JsonObject Event)> ReadyAsync(HttpClient client)
        {
            var id = (await client.CreateSessionAsync(new { timeout_seconds = 120, metadata = new { k = "v" } })).Id();
            using var host = fixture.CreateHostClient(id);
            await host.PostOkAsync($"/api/v0/sessions/{id}/idle");
            var row = JsonNode.Parse(Assert.Single(await fixture.QueryAsync<string>("SELECT row_to_json(s)::text FROM sessions s WHERE id = @id", ("id", id))))!.AsObject();
            var change = JsonNode.Parse(Assert.Single(await fixture.QueryAsync<string>(
                "SELECT session::text FROM state_changes WHERE session_id = @id AND state = 'idle'", ("id", id))))!.AsObject();
            return (row, change);
        }

        var (shortRow, shortEvent) = await ReadyAsync(plain);
        var (generalRow, generalEvent) = await ReadyAsync(hooked);
        // The general path it was: it recorded the webhook's delivery of the idle state.
        Assert.Contains("idle", await fixture.QueryAsync<string>("SELECT payload::jsonb -> 'data' ->> 'state' FROM webhook_deliveries " +
            "WHERE session_id = @id AND event_type = 'session.state'", ("id", (Guid)generalRow["id"]!)));

        foreach (var (row, what) in new[] { (shortRow, "short"), (generalRow, "general") })
        {
            // One moment stamps the report: activity, start, first ready; the idle deadline is the timeout after it.
            var at = (DateTimeOffset)row["last_activity_at"]!;
            Assert.True(at == (DateTimeOffset?)row["started_at"] && at == (DateTimeOffset?)row["first_ready_at"], $"{what}: {row}");
            Assert.Equal(at.AddSeconds(120), (DateTimeOffset?)row["auto_close_at"]);
        }
        // Every other column: the same value, or the session's own on both sides.
        string[] own = ["id", "name", "created_by", "created_by_operator_id", "created_at", "last_activity_at", "started_at", "first_ready_at",
            "auto_close_at", "boot_ticket_hash"];
        Assert.Equal(shortRow.Select(p => p.Key).Order(), generalRow.Select(p => p.Key).Order());
        foreach (var (key, value) in shortRow.Where(p => !own.Contains(p.Key)))
        {
            Assert.True(JsonNode.DeepEquals(value, generalRow[key]), $"{key}: {value?.ToJsonString()} on the short path, {generalRow[key]?.ToJsonString()} on the general one");
        }
        foreach (var key in own)
        {
            Assert.True((shortRow[key] is null) == (generalRow[key] is null), $"{key}: {shortRow[key]?.ToJsonString()} / {generalRow[key]?.ToJsonString()}");
        }

        // The state event carries the session as the response shows it: the same fields, the same values apart from its own.
        Assert.Equal(shortEvent.Select(p => p.Key), generalEvent.Select(p => p.Key));
        foreach (var (key, value) in shortEvent)
        {
            Assert.True(JsonNode.DeepEquals(value, generalEvent[key]) || (value is not null && generalEvent[key] is not null
                && key is "id" or "name" or "created_by" or "created_at" or "last_activity_at" or "started_at" or "auto_close_at"),
                $"{key}: {value?.ToJsonString()} on the short path, {generalEvent[key]?.ToJsonString()} on the general one");
        }
    }

    [Fact]
    public async Task HostTokenOfAnEarlierComputerStartChangesNothing()
    {
        var (_, client) = await fixture.CreateOperatorAsync("stale");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        var path = $"/api/v0/sessions/{session.Id()}";
        using var first = fixture.CreateHostClient(session.Id(), start: 0);
        await first.PostOkAsync($"{path}/idle");

        await client.PostOkAsync($"{path}/close");
        // Closed: the first computer's token is dead at once, expiry or not.
        await (await first.PostAsync($"{path}/idle", Http.Json(new { }))).AssertErrorAsync(401, "UNAUTHORIZED");
        await client.PutAsync($"{path}/state", Http.Json(new { state = "init" }));
        Assert.Equal([2], await fixture.QueryAsync<int>("SELECT computer_start FROM sessions WHERE id = @id", ("id", session.Id())));

        // The old agent's late "ready" cannot flip the restored session to idle before its new agent is up.
        await (await first.PostAsync($"{path}/idle", Http.Json(new { }))).AssertErrorAsync(401, "UNAUTHORIZED");
        Assert.Equal("init", (string?)(await client.GetSessionAsync(session.Id().ToString()))["state"]);
        using var second = fixture.CreateHostClient(session.Id(), start: 2);
        Assert.Equal("idle", (string?)(await second.PostOkAsync($"{path}/idle"))["state"]);
    }

    [Fact]
    public async Task HostReadyWithAnUnansweredMessageMakesTheSessionBusyNeverIdle()
    {
        var (_, client) = await fixture.CreateOperatorAsync("pending");
        using var _ = client;
        var session = await client.CreateSessionAsync(new { prompt = "hi" });
        var path = $"/api/v0/sessions/{session.Id()}";
        var prompt = (string?)(await client.GetMessagesAsync(session.Id().ToString())).Single()!["id"];
        using var first = fixture.CreateHostClient(session.Id(), start: 0);

        Assert.Equal("busy", (string?)(await first.PostOkAsync($"{path}/idle"))["state"]);
        await first.PostOkAsync($"{path}/messages", new { content = "hello", metadata = new { type = "response", reply_to = prompt } });
        Assert.Equal("idle", (string?)(await first.PostOkAsync($"{path}/idle"))["state"]);

        // Everything answered: a restored computer's ready report makes it idle.
        await client.PostOkAsync($"{path}/close");
        await client.PutAsync($"{path}/state", Http.Json(new { state = "init" }));
        using var second = fixture.CreateHostClient(session.Id(), start: 2);
        Assert.Equal("idle", (string?)(await second.PostOkAsync($"{path}/idle"))["state"]);
    }

    [Fact]
    public async Task OnlyTheHostReportsReady()
    {
        var (_, client) = await fixture.CreateOperatorAsync("notready");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        var error = await (await client.PostAsync($"/api/v0/sessions/{session.Id()}/idle", Http.Json(new { }))).AssertErrorAsync(409, "CONFLICT");
        Assert.Equal("The session is init; cannot mark it idle.", (string?)error["message"]);
    }

    [Fact]
    public async Task CloseQueuesWorkAndClosingAgainIsAConflictNamingTheState()
    {
        var (_, client) = await fixture.CreateOperatorAsync("closer");
        using var _ = client;
        var session = await client.CreateSessionAsync();

        var closed = await client.PostOkAsync($"/api/v0/sessions/{session.Id()}/close");
        Assert.Equal("closed", (string?)closed["state"]);
        Assert.Equal((string?)closed["last_activity_at"], (string?)closed["closed_at"]);
        Assert.Equal(["create", "close"], await WorkAsync(session.Id()));

        var error = await (await client.PostAsync($"/api/v0/sessions/{session.Id()}/close", Http.Json(new { }))).AssertErrorAsync(409, "CONFLICT");
        Assert.Equal("The session is closed; cannot close it.", (string?)error["message"]);
    }

    [Fact]
    public async Task RestoreFromClosedQueuesRestoreAndPostsThePrompt()
    {
        var (_, client) = await fixture.CreateOperatorAsync("restorer");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        await client.PostOkAsync($"/api/v0/sessions/{session.Id()}/close");

        var restored = await client.PostOkAsync($"/api/v0/sessions/{session.Id()}/restore", new { prompt = "continue" });
        Assert.Equal("init", (string?)restored["state"]);
        Assert.Equal(["create", "close", "restore"], await WorkAsync(session.Id()));
        Assert.Equal("continue", (string?)(await client.GetMessagesAsync(session.Id().ToString()))[0]!["content"]);

        await (await client.PostAsync($"/api/v0/sessions/{session.Id()}/restore", Http.Json(new { }))).AssertErrorAsync(409, "CONFLICT");
    }

    [Fact]
    public async Task AdminCannotRestoreSomeoneElsesSession()
    {
        var (_, client) = await fixture.CreateOperatorAsync("owned");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        await client.PostOkAsync($"/api/v0/sessions/{session.Id()}/close");
        using var admin = await fixture.AdminClientAsync();

        await (await admin.PostAsync($"/api/v0/sessions/{session.Id()}/restore", Http.Json(new { }))).AssertErrorAsync(403, "FORBIDDEN");
        Assert.Equal("closed", (string?)(await client.GetSessionAsync(session.Id().ToString()))["state"]);
    }

    [Fact]
    public async Task MessageToAClosedSessionRestoresIt()
    {
        var (_, client) = await fixture.CreateOperatorAsync("autorestore");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        await client.PostOkAsync($"/api/v0/sessions/{session.Id()}/close");

        var response = await client.PostAsync($"/api/v0/sessions/{session.Id()}/messages", Http.Json(new { content = "wake up" }));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("user", (string?)(await response.ReadObjectAsync())["role"]);
        Assert.Equal("init", (string?)(await client.GetSessionAsync(session.Id().ToString()))["state"]);
        Assert.Equal(["create", "close", "restore"], await WorkAsync(session.Id()));
    }

    [Fact]
    public async Task UserMessageToAnIdleSessionMakesItBusyAndPausesTheTimer()
    {
        var (_, client) = await fixture.CreateOperatorAsync("waker");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        using var host = fixture.CreateHostClient(session.Id());
        await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/idle");

        await client.PostOkAsync($"/api/v0/sessions/{session.Id()}/messages", new { content = "do it" });
        var busy = await client.GetSessionAsync(session.Id().ToString());
        Assert.Equal("busy", (string?)busy["state"]);
        Assert.Null(busy["auto_close_at"]);
    }

    [Fact]
    public async Task StateEndpointRequestsTransitionsFromTheTable()
    {
        var (_, client) = await fixture.CreateOperatorAsync("stater");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        var path = $"/api/v0/sessions/{session.Id()}/state";

        Assert.Equal("closed", (string?)(await (await client.PutAsync(path, Http.Json(new { state = "closed" }))).ReadObjectAsync())["state"]);
        Assert.Equal("init", (string?)(await (await client.PutAsync(path, Http.Json(new { state = "init" }))).ReadObjectAsync())["state"]);
        await (await client.PutAsync(path, Http.Json(new { state = "busy" }))).AssertErrorAsync(403, "FORBIDDEN");
        await (await client.PutAsync(path, Http.Json(new { state = "errored" }))).AssertErrorAsync(422, "VALIDATION_ERROR");
    }

    [Fact]
    public async Task IdleSessionClosesWithinTwoSecondsOfItsDeadline()
    {
        var (_, client) = await fixture.CreateOperatorAsync("sleeper");
        using var _ = client;
        var session = await client.CreateSessionAsync(new { timeout_seconds = 2 });
        using var host = fixture.CreateHostClient(session.Id());
        var deadline = DateTimeOffset.Parse((string)(await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/idle"))["auto_close_at"]!);

        var state = "idle";
        var closedAt = (DateTimeOffset?)null;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (state != "closed" && !cts.IsCancellationRequested)
        {
            await Task.Delay(100);
            var current = await client.GetSessionAsync(session.Id().ToString());
            state = (string)current["state"]!;
            closedAt = current["closed_at"] is { } at ? DateTimeOffset.Parse((string)at!) : null;
        }
        Assert.Equal("closed", state);
        Assert.InRange(closedAt!.Value, deadline, deadline.AddSeconds(2));
        Assert.Equal(["create", "close"], await WorkAsync(session.Id()));
    }

    [Fact]
    public async Task ClearingMessagesIsRefusedWhileBusy()
    {
        var (_, client) = await fixture.CreateOperatorAsync("clearer");
        using var _ = client;
        var session = await client.CreateSessionAsync(new { prompt = "one" });
        using var host = fixture.CreateHostClient(session.Id());
        await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/idle");
        await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/busy");

        await (await client.DeleteAsync($"/api/v0/sessions/{session.Id()}/messages")).AssertErrorAsync(409, "CONFLICT");
        Assert.Single(await client.GetMessagesAsync(session.Id().ToString()));

        await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/idle");
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v0/sessions/{session.Id()}/messages")).StatusCode);
        Assert.Equal(0, (int)(await (await client.GetAsync($"/api/v0/sessions/{session.Id()}/messages/count")).ReadObjectAsync())["count"]!);
    }
}
