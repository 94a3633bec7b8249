using System.Net;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Webhooks;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Webhooks;

/// <summary>Registering webhooks on the main system, where private targets are refused (the default).</summary>
[Collection(RaworcAppCollection.Name)]
public sealed class WebhookRegistrationTests(RaworcAppFixture fixture)
{
    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("https://10.0.0.1/hook")]
    [InlineData("http://localhost:9000/hook")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://192.168.1.10/hook")]
    // IPv4 addresses inside IPv6 ones (NAT64, 6to4, IPv4-compatible, Teredo): found by a break-out attempt, accepted before.
    [InlineData("http://[64:ff9b::a9fe:a9fe]/latest/meta-data/")]
    [InlineData("http://[64:ff9b::10.0.0.1]/hook")]
    [InlineData("http://[2002:7f00:1::]/hook")]
    [InlineData("http://[::127.0.0.1]/hook")]
    [InlineData("http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook")]
    // Special-purpose ranges the computers' firewall drops too: accepted before (a break-out attempt, 2026-12-05).
    [InlineData("http://198.18.0.1/")]
    [InlineData("http://192.0.0.1/")]
    [InlineData("http://203.0.113.7/hook")]
    public async Task PrivateTargetsAreRefusedWhenTheSettingIsOff(string url)
    {
        var (_, client) = await fixture.CreateOperatorAsync("ssrf");
        using var _ = client;
        var error = await (await client.PostAsync("/api/v0/webhooks", Http.Json(new { url }))).AssertErrorAsync(422, "VALIDATION_ERROR");
        Assert.Equal([WebhookTargets.RefusedMessage], error["details"]!["url"]!.AsArray().Select(p => (string)p!).ToArray());
        Assert.Empty(await (await client.GetAsync("/api/v0/webhooks")).ReadArrayAsync());
    }

    [Fact]
    public async Task TheMachinesOwnAddressesAreRefused()
    {
        // Found by a break-out attempt: a webhook to the host's own LAN address reached a listener on all its addresses.
        var own = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(u => u.Address)
            .Where(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IPAddress.IsLoopback(a)).ToList();
        Assert.NotEmpty(own);
        var (_, client) = await fixture.CreateOperatorAsync("own");
        using var _ = client;
        foreach (var address in own)
        {
            var error = await (await client.PostAsync("/api/v0/webhooks", Http.Json(new { url = $"http://{address}:18080/hook" })))
                .AssertErrorAsync(422, "VALIDATION_ERROR");
            Assert.Equal([WebhookTargets.RefusedMessage], error["details"]!["url"]!.AsArray().Select(p => (string)p!).ToArray());
            Assert.NotNull(WebhookTargets.Refusal(address));
        }
        Assert.Empty(await (await client.GetAsync("/api/v0/webhooks")).ReadArrayAsync());
    }

    [Fact]
    public async Task BadValuesAreAllNamedInOneValidationError()
    {
        var (_, client) = await fixture.CreateOperatorAsync("hooks");
        using var _ = client;
        var error = await (await client.PostAsync("/api/v0/webhooks", Http.Json(new { url = "ftp://example.com/x", event_types = new[] { "session.message", "session.typo" } })))
            .AssertErrorAsync(422, "VALIDATION_ERROR");
        Assert.Equal(["must be an absolute http or https URL"], error["details"]!["url"]!.AsArray().Select(p => (string)p!).ToArray());
        Assert.Equal(["'session.typo' is not one of session.message, session.state, session.deleted"],
            error["details"]!["event_types"]!.AsArray().Select(p => (string)p!).ToArray());
        await (await client.PostAsync("/api/v0/webhooks", Http.Json(new { }))).AssertErrorAsync(422, "VALIDATION_ERROR");
    }

    [Fact]
    public async Task AWebhookIsTheOwnersOnlyAndItsSecretIsShownOnce()
    {
        var (_, owner) = await fixture.CreateOperatorAsync("owner");
        var (_, other) = await fixture.CreateOperatorAsync("other", admin: true);
        using var _ = owner;
        using var __ = other;
        var response = await owner.PostAsync("/api/v0/webhooks", Http.Json(new { url = "https://hooks.example.com/raworc" }));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadObjectAsync();
        var id = (string)created["id"]!;
        Assert.StartsWith("whsec_", (string?)created["secret"]);
        Assert.Equal($"/api/v0/webhooks/{id}", response.Headers.Location?.ToString());
        Assert.Equal(["session.message", "session.state", "session.deleted"], created["event_types"]!.AsArray().Select(t => (string)t!).ToArray());

        var read = await (await owner.GetAsync($"/api/v0/webhooks/{id}")).ReadObjectAsync();
        Assert.Null(read["secret"]);
        Assert.DoesNotContain("whsec_", (await owner.GetStringAsync("/api/v0/webhooks")), StringComparison.Ordinal);
        await (await other.GetAsync($"/api/v0/webhooks/{id}")).AssertErrorAsync(404, "NOT_FOUND");
        await (await other.DeleteAsync($"/api/v0/webhooks/{id}")).AssertErrorAsync(404, "NOT_FOUND");

        var changed = await (await owner.PatchAsync($"/api/v0/webhooks/{id}", Http.Json(new { event_types = new[] { "session.state" }, enabled = false }))).ReadObjectAsync();
        Assert.Equal((false, "session.state"), ((bool?)changed["enabled"], (string?)changed["event_types"]![0]));
        await (await owner.PatchAsync($"/api/v0/webhooks/{id}", Http.Json(new { }))).AssertErrorAsync(422, "VALIDATION_ERROR");
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/v0/webhooks/{id}")).StatusCode);
        await (await owner.GetAsync($"/api/v0/webhooks/{id}")).AssertErrorAsync(404, "NOT_FOUND");
    }

    [Fact]
    public async Task AtSendTimeANameThatResolvesToLoopbackIsRefusedBeforeAnyRequest()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var sender = new WebhookSender(Options.Create(new WebhookOptions { ImmediateRetries = 1, ImmediateRetryDelayMilliseconds = 1 }), TimeProvider.System);
        var delivery = new WebhookDelivery { EventId = Guid.NewGuid(), EventType = WebhookEventTypes.Message, Payload = "{}" };

        var result = await sender.SendAsync($"http://localhost:{receiver.Port}/hook", "whsec_test", delivery, CancellationToken.None);

        Assert.False(result.Delivered);
        var attempt = Assert.Single(result.Attempts);
        Assert.Equal((null, "refused target: localhost is a loopback address"), (attempt.StatusCode, attempt.Error));
        Assert.Empty(receiver.Requests);
    }

    [Fact]
    public async Task ARedirectIsAFailedAttemptAndIsNeverFollowed()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Redirect("/hook", receiver.UrlFor("/elsewhere"));
        using var sender = new WebhookSender(Options.Create(new WebhookOptions { AllowPrivateTargets = true, ImmediateRetries = 0 }), TimeProvider.System);
        var delivery = new WebhookDelivery { EventId = Guid.NewGuid(), EventType = WebhookEventTypes.Message, Payload = "{}" };

        var result = await sender.SendAsync(receiver.UrlFor("/hook"), "whsec_test", delivery, CancellationToken.None);

        Assert.False(result.Delivered);
        var attempt = Assert.Single(result.Attempts);
        Assert.Equal((307, "HTTP 307 (redirects are not followed)"), (attempt.StatusCode, attempt.Error));
        Assert.Equal(["/hook"], receiver.Requests.Select(r => r.Path).ToArray());
    }
}
