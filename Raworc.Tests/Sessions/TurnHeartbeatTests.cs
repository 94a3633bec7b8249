using System.Net;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Sessions;

/// <summary>
/// A turn lasts while its Host gives signs of life: only the Host marks a session busy, and a busy session whose Host is
/// silent for <c>Sessions:BusyHeartbeatSeconds</c> (3 s here) goes idle with a <c>system</c> message.
/// </summary>
[Collection(QuotaAppCollection.Name)]
public sealed class TurnHeartbeatTests(QuotaAppFixture fixture) : IAsyncLifetime
{
    // The deployment's capacity is small here: each test starts from no live session.
    public async Task InitializeAsync()
    {
        using var admin = await fixture.AdminClientAsync();
        foreach (var session in await (await admin.GetAsync("/api/v0/sessions?limit=1000")).ReadArrayAsync())
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v0/sessions/{session!["id"]}")).StatusCode);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task OwnerAndAdminCannotMarkASessionBusy()
    {
        var (_, client) = await fixture.CreateOperatorAsync("holder");
        using var _ = client;
        using var admin = await fixture.AdminClientAsync();
        var id = (await client.CreateSessionAsync(new { timeout_seconds = 2 })).Id();
        using var host = fixture.CreateHostClient(id);
        await host.PostOkAsync($"/api/v0/sessions/{id}/idle");

        // Before: the owner's busy kept the session (and its computer) busy for ever, past its 2 s timeout.
        await (await client.PostAsync($"/api/v0/sessions/{id}/busy", Http.Json(new { }))).AssertErrorAsync(403, "FORBIDDEN");
        await (await client.PutAsync($"/api/v0/sessions/{id}/state", Http.Json(new { state = "busy" }))).AssertErrorAsync(403, "FORBIDDEN");
        await (await admin.PostAsync($"/api/v0/sessions/{id}/busy", Http.Json(new { }))).AssertErrorAsync(403, "FORBIDDEN");

        Assert.Equal("idle", (string?)(await client.GetSessionAsync(id.ToString()))["state"]);
        await client.WaitForStateAsync(id, "closed", TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task ASilentHostsTurnEndsWhileABeatingHostsTurnGoesOn()
    {
        var (_, client) = await fixture.CreateOperatorAsync("turns");
        using var _ = client;
        var silent = (await client.CreateSessionAsync(new { timeout_seconds = 600 })).Id();
        var beating = (await client.CreateSessionAsync(new { timeout_seconds = 600 })).Id();
        using var silentHost = fixture.CreateHostClient(silent);
        using var beatingHost = fixture.CreateHostClient(beating);
        await silentHost.PostOkAsync($"/api/v0/sessions/{silent}/idle");
        await beatingHost.PostOkAsync($"/api/v0/sessions/{beating}/idle");

        // Both turns start together; one Host beats every second, the other never does.
        await client.PostOkAsync($"/api/v0/sessions/{silent}/messages", new { content = "are you there?" });
        await client.PostOkAsync($"/api/v0/sessions/{beating}/messages", new { content = "keep going" });
        using var stop = new CancellationTokenSource();
        var beats = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await beatingHost.PostOkAsync($"/api/v0/sessions/{beating}/busy");
                await Task.Delay(TimeSpan.FromSeconds(1), stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        });

        var ended = await client.WaitForStateAsync(silent, "idle", TimeSpan.FromSeconds(30));
        var other = await client.GetSessionAsync(beating.ToString());
        await stop.CancelAsync();
        await beats;

        Assert.Equal("busy", (string?)other["state"]);
        Assert.Equal(DateTimeOffset.Parse((string)ended["last_activity_at"]!).AddSeconds(600), DateTimeOffset.Parse((string)ended["auto_close_at"]!));
        var notice = (await client.GetMessagesAsync(silent.ToString())).Last()!;
        Assert.Equal(("system", "The Host gave no sign of life for 3 s, so its turn was ended. Send a message to try again.", "turn_ended", 3),
            ((string?)notice["role"], (string?)notice["content"], (string?)notice["metadata"]!["type"], (int)notice["metadata"]!["silent_seconds"]!));
        // Once its Host is silent too, the other turn ends the same way.
        await client.WaitForStateAsync(beating, "idle", TimeSpan.FromSeconds(30));
    }
}
