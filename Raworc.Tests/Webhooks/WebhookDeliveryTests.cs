using System.Net;
using System.Text.Json.Nodes;
using Aspire.Hosting.ApplicationModel;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Webhooks;

/// <summary>Deliveries to a real receiver on 127.0.0.1, through the outbox and the dispatcher of a running API.</summary>
[Collection(WebhookAppCollection.Name)]
public sealed class WebhookDeliveryTests(WebhookAppFixture fixture) : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    private static string NewPath() => $"/hooks/{Guid.NewGuid():N}";

    private static async Task<(string Id, string Secret)> RegisterAsync(HttpClient client, string url, string[]? eventTypes = null)
    {
        var response = await client.PostAsync("/api/v0/webhooks", Http.Json(eventTypes is null ? new { url } : new { url, event_types = eventTypes }));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var created = await response.ReadObjectAsync();
        return ((string)created["id"]!, (string)created["secret"]!);
    }

    private async Task<List<ReceivedRequest>> WaitForAcceptedAsync(string path, int count, TimeSpan? timeout = null)
    {
        await Waits.UntilAsync(() => Task.FromResult(_receiver.AcceptedAt(path).Count >= count), $"{count} deliveries reach {path}",
            timeout ?? TimeSpan.FromSeconds(60));
        return _receiver.AcceptedAt(path);
    }

    private static async Task<JsonArray> DeliveriesAsync(HttpClient client, string webhookId)
    {
        var response = await client.GetAsync($"/api/v0/webhooks/{webhookId}/deliveries");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadArrayAsync();
    }

    private static string Describe(ReceivedRequest r) => r.EventType switch
    {
        "session.message" => $"message:{r.Event["data"]!["role"]}:{r.Event["data"]!["content"]}",
        "session.state" => $"state:{r.Event["data"]!["state"]}",
        _ => $"{r.EventType}",
    };

    [Fact]
    public async Task DeliveriesAreSignedWithTheSecretAndCarryEachEventOnceInOrder()
    {
        var (_, client) = await fixture.CreateOperatorAsync("hooked");
        using var _ = client;
        var path = NewPath();
        var (_, secret) = await RegisterAsync(client, _receiver.UrlFor(path));

        var session = await client.CreateSessionAsync(new { prompt = "hello", secrets = new { API_TOKEN = "never-in-a-payload" } });
        using var host = fixture.CreateHostClient(session.Id());
        await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/idle");
        await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/messages", new { content = "hi there", metadata = new { type = "response" } });

        var received = await WaitForAcceptedAsync(path, 4);
        Assert.Equal(["message:user:hello", "state:init", "state:busy", "message:host:hi there"], received.Select(Describe).ToArray());
        Assert.All(received, r => Assert.True(WebhookReceiver.Verifies(secret, r.Signature, r.Body), $"signature of {r.Body}"));
        Assert.False(WebhookReceiver.Verifies(secret + "x", received[0].Signature, received[0].Body));
        Assert.All(received, r => Assert.Equal(["created_at", "data", "id", "session_id", "type"], r.Event.Select(p => p.Key).Order().ToArray()));
        Assert.All(received, r => Assert.Equal((string?)r.Event["id"], r.EventId));
        Assert.All(received, r => Assert.Equal(session.Id().ToString(), (string?)r.Event["session_id"]));
        Assert.Equal(4, received.Select(r => r.EventId).Distinct().Count());
        Assert.DoesNotContain(received, r => r.Body.Contains("never-in-a-payload", StringComparison.Ordinal) || r.Body.Contains("API_TOKEN", StringComparison.Ordinal));

        // data is the REST object: the message exactly as listed; the session in GET's shape (as it was after that change).
        var messages = await client.GetMessagesAsync(session.Id().ToString());
        Assert.Equal(messages[1]!.ToJsonString(), received[3].Event["data"]!.ToJsonString());
        var now = await client.GetSessionAsync(session.Id().ToString());
        Assert.Equal(now.Select(p => p.Key).ToArray(), received[2].Event["data"]!.AsObject().Select(p => p.Key).ToArray());
        Assert.Equal(now["id"]!.ToJsonString(), received[2].Event["data"]!["id"]!.ToJsonString());
    }

    [Fact]
    public async Task AUserMessageThatStartsATurnIsDeliveredAndThenTheBusyStateItCaused()
    {
        // A message to an idle session without such webhooks takes a shorter write (SessionTransitions.StartTurn.cs); with
        // them it must still write both outbox rows, in order.
        var (_, client) = await fixture.CreateOperatorAsync("turning");
        using var _ = client;
        var path = NewPath();
        await RegisterAsync(client, _receiver.UrlFor(path), ["session.message", "session.state"]);
        var session = await client.CreateSessionAsync();
        using var host = fixture.CreateHostClient(session.Id());
        await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/idle");
        await client.PostOkAsync($"/api/v0/sessions/{session.Id()}/messages", new { content = "start a turn" });

        var received = await WaitForAcceptedAsync(path, 4);
        Assert.Equal(["state:init", "state:idle", "message:user:start a turn", "state:busy"], received.Select(Describe).ToArray());
        Assert.Equal("busy", (string?)(await client.GetSessionAsync(session.Id().ToString()))["state"]);
    }

    [Fact]
    public async Task AWebhookReceivesOnlyTheEventTypesItChose()
    {
        var (_, client) = await fixture.CreateOperatorAsync("filtered");
        using var _ = client;
        var path = NewPath();
        var (id, _) = await RegisterAsync(client, _receiver.UrlFor(path), ["session.deleted"]);

        var session = await client.CreateSessionAsync(new { prompt = "first" });
        await client.PostOkAsync($"/api/v0/sessions/{session.Id()}/messages", new { content = "second" });
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v0/sessions/{session.Id()}")).StatusCode);

        var received = Assert.Single(await WaitForAcceptedAsync(path, 1));
        Assert.Equal("session.deleted", (string?)received.Event["type"]);
        Assert.Equal(new JsonObject { ["session_id"] = session.Id().ToString() }.ToJsonString(), received.Event["data"]!.ToJsonString());
        // The dispatcher records the delivery once the receiver's answer is back, a moment after the receiver saw it.
        await Waits.UntilAsync(async () => await DeliveriesAsync(client, id) is [var only] && (string?)only!["status"] != "pending",
            "the delivery is recorded");
        var delivery = Assert.Single(await DeliveriesAsync(client, id));
        Assert.Equal("delivered", (string?)delivery!["status"]);
        Assert.Equal(200, (int?)Assert.Single(delivery["attempts"]!.AsArray())!["status_code"]);
    }

    [Fact]
    public async Task AReceiverThatWasDownGetsEveryEventOnceInOrderWhenItComesBack()
    {
        var (_, client) = await fixture.CreateOperatorAsync("patient");
        using var _ = client;
        var path = NewPath();
        var (id, _) = await RegisterAsync(client, _receiver.UrlFor(path), ["session.message"]);
        await _receiver.DownAsync();

        var session = await client.CreateSessionAsync();
        for (var i = 1; i <= 3; i++)
        {
            await client.PostOkAsync($"/api/v0/sessions/{session.Id()}/messages", new { content = $"m{i}" });
        }
        await Waits.UntilAsync(async () => (await DeliveriesAsync(client, id)).Any(d => d!["attempts"]!.AsArray().Count > 0),
            "a delivery was tried while the receiver was down");
        var tried = (await DeliveriesAsync(client, id)).Last(d => d!["attempts"]!.AsArray().Count > 0)!;
        Assert.Equal("pending", (string?)tried["status"]);
        Assert.Equal("connection refused", (string?)tried["attempts"]![0]!["error"]);
        Assert.Null(tried["attempts"]![0]!["status_code"]);
        await _receiver.UpAsync();

        var received = await WaitForAcceptedAsync(path, 3);
        Assert.Equal(["message:user:m1", "message:user:m2", "message:user:m3"], received.Select(Describe).ToArray());
        await Waits.UntilAsync(async () => (await DeliveriesAsync(client, id)).All(d => (string?)d!["status"] == "delivered"), "all are delivered");
        Assert.Equal(3, _receiver.AcceptedAt(path).Count);
    }

    [Fact]
    public async Task ADeliveryPendingWhileTheApiRestartsIsSentAfterIt()
    {
        var (name, client) = await fixture.CreateOperatorAsync("restarted");
        using var _ = client;
        var path = NewPath();
        var (id, _) = await RegisterAsync(client, _receiver.UrlFor(path), ["session.message"]);
        _receiver.Hold(path);
        var session = await client.CreateSessionAsync(new { prompt = "before the restart" });
        await Waits.UntilAsync(() => Task.FromResult(_receiver.IsHolding(path)), "the delivery is in flight, held by the receiver");

        // Held, not refused: a refused round fails at once, one a second here, and six in a row disable the webhook (this
        // system's setting); a stop on a loaded machine took longer than that (CI), and the disabled webhook's delivery then
        // stayed pending for good. A held round lasts the sender's timeout (5 s) twice, so the API's stop has about a
        // minute. The stopping API gives its claim back (or, killed, its lease runs out: 80 s here); only the next process
        // can deliver it, as the receiver answers only once the API is down.
        using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
        {
            await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Api, KnownResourceCommands.StopCommand, cts.Token);
            await fixture.App.ResourceNotifications.WaitForResourceAsync(ResourceNames.Api,
                e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), cts.Token);
            Assert.Empty(_receiver.AcceptedAt(path));
            _receiver.LetGo(path);
            await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Api, KnownResourceCommands.StartCommand, cts.Token);
            // Waits through an unavailable state: the command may return while the snapshot still shows the stopped process, and
            // the default behaviour stops at that at once ("failed to start": ApiRestartTests met it in a loaded CI).
            await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.Api, Aspire.Hosting.ApplicationModel.WaitBehavior.WaitOnResourceUnavailable, cts.Token);
        }

        var received = Assert.Single(await WaitForAcceptedAsync(path, 1, TimeSpan.FromMinutes(2)));
        Assert.Equal("message:user:before the restart", Describe(received));
        Assert.Equal(session.Id().ToString(), (string?)received.Event["session_id"]);
        using var again = fixture.CreateApiClient(await fixture.LoginAsync(name, "operator-pass-1"));
        await Waits.UntilAsync(async () => (string?)Assert.Single(await DeliveriesAsync(again, id))!["status"] == "delivered", "it is delivered");
    }

    [Fact]
    public async Task AnEndpointThatKeepsFailingIsDisabledWithItsReason()
    {
        var (_, client) = await fixture.CreateOperatorAsync("failing");
        using var _ = client;
        var path = NewPath();
        _receiver.Answer(path, 500);
        var (id, _) = await RegisterAsync(client, _receiver.UrlFor(path), ["session.message"]);
        await client.CreateSessionAsync(new { prompt = "nobody listens" });

        JsonObject webhook = null!;
        await Waits.UntilAsync(async () => (bool?)(webhook = await (await client.GetAsync($"/api/v0/webhooks/{id}")).ReadObjectAsync())["enabled"] == false,
            "the webhook is disabled", TimeSpan.FromSeconds(60));
        Assert.Equal($"Disabled after {WebhookAppFixture.DisableAfterFailures} or more deliveries in a row failed; the last: HTTP 500.",
            (string?)webhook["disabled_reason"]);
        Assert.Equal(WebhookAppFixture.DisableAfterFailures, (int?)webhook["consecutive_failures"]);
        var delivery = Assert.Single(await DeliveriesAsync(client, id))!;
        Assert.Equal("pending", (string?)delivery["status"]);
        // Each round is an attempt and one immediate retry.
        var attempts = delivery["attempts"]!.AsArray();
        Assert.Equal(WebhookAppFixture.DisableAfterFailures * 2, attempts.Count);
        Assert.All(attempts, a => Assert.Equal((500, "HTTP 500"), ((int?)a!["status_code"], (string?)a["error"])));
    }
}
