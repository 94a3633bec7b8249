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
