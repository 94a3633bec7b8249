using System.Net;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Models;

[Collection(RaworcAppCollection.Name)]
public sealed class AnthropicGatewayTests(RaworcAppFixture fixture)
{
    private HttpClient HostClient(Guid session, bool asApiKey)
    {
        var bearer = fixture.CreateHostClient(session);
        if (!asApiKey)
        {
            return bearer;
        }
        // The way the Anthropic SDK sends a key: x-api-key and no Authorization.
        var client = fixture.CreateApiClient();
        client.DefaultRequestHeaders.Add("x-api-key", bearer.DefaultRequestHeaders.Authorization!.Parameter);
        bearer.Dispose();
        return client;
    }

    [Fact]
    public async Task CallsWithoutASessionKeyCarryThePlatformKeyAndTheirUsageIsCounted()
    {
        var (_, owner) = await fixture.CreateOperatorAsync("gw-platform");
        using var _ = owner;
        var id = (await owner.CreateSessionAsync()).Id();
        var marker = Guid.NewGuid().ToString("N");
        fixture.PlatformModel.EnqueueFor(RaworcAppFixture.PlatformAnthropicKey, ScriptStep.Answer("first"), ScriptStep.Answer("second"));
        using var host = HostClient(id, asApiKey: true);

        foreach (var expected in new[] { "first", "second" })
        {
            var response = await host.SendAsync(GatewayCalls.Anthropic(id, GatewayCalls.AnthropicBody(marker)));
            var answer = await response.ReadObjectAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(expected, (string?)answer["content"]![0]!["text"]);
        }

        var received = fixture.PlatformModel.Requests.Where(r => r.Messages.Any(m => m.Text == marker)).ToList();
        Assert.Equal(2, received.Count);
        Assert.All(received, r => Assert.Equal($" {RaworcAppFixture.PlatformAnthropicKey}", r.Credentials));
        Assert.Equal((2, received.Sum(r => r.ReportedUsage!.Value.Input), received.Sum(r => r.ReportedUsage!.Value.Output)),
            await owner.UsageAsync(id));
    }

    [Fact]
    public async Task ASessionsOwnKeyIsUsedInsteadOfThePlatformsAndABearerHostTokenIsAccepted()
    {
        var (_, owner) = await fixture.CreateOperatorAsync("gw-own");
        using var _ = owner;
        var key = $"sk-ant-{Guid.NewGuid():N}";
        var id = (await owner.CreateSessionAsync(new { secrets = new { ANTHROPIC_API_KEY = key } })).Id();
        fixture.PlatformModel.EnqueueFor(key, ScriptStep.Answer("own"));
        using var host = HostClient(id, asApiKey: false);

        var response = await host.SendAsync(GatewayCalls.Anthropic(id, GatewayCalls.AnthropicBody("hello")));

        Assert.Equal("own", (string?)(await response.ReadObjectAsync())["content"]![0]!["text"]);
        var received = Assert.Single(fixture.PlatformModel.Requests, r => r.ApiKey == key);
        Assert.Equal($" {key}", received.Credentials);
        Assert.Equal((1, received.ReportedUsage!.Value.Input, received.ReportedUsage!.Value.Output), await owner.UsageAsync(id));
    }

    [Fact]
    public async Task AStreamedAnswerPassesThroughAsItIsWrittenAndItsUsageIsCounted()
    {
        var (_, owner) = await fixture.CreateOperatorAsync("gw-stream");
        using var _ = owner;
        var key = $"sk-ant-{Guid.NewGuid():N}";
        var id = (await owner.CreateSessionAsync(new { secrets = new { ANTHROPIC_API_KEY = key } })).Id();
        var release = new TaskCompletionSource();
        fixture.PlatformModel.EnqueueFor(key, ScriptStep.Stream("first-part", "second-part", release.Task));
        using var host = HostClient(id, asApiKey: true);

        // The first part arrives while the stand-in still holds the rest: the gateway does not wait for the end.
        using var response = await host.SendAsync(GatewayCalls.Anthropic(id, GatewayCalls.AnthropicBody("stream", stream: true)),
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var text = await GatewayCalls.ReadStreamAsync(response, "first-part", release.SetResult);

        Assert.Contains("second-part", text, StringComparison.Ordinal);
        Assert.Contains("event: message_stop", text, StringComparison.Ordinal);
        var usage = Assert.Single(fixture.PlatformModel.Requests, r => r.ApiKey == key).ReportedUsage!.Value;
        Assert.Equal((1, usage.Input, usage.Output), await owner.UsageAsync(id));
    }

    [Fact]
    public async Task OnlyTheSessionsOwnHostMayCallItsGateway()
    {
        var (_, owner) = await fixture.CreateOperatorAsync("gw-guard");
        using var _ = owner;
        var id = (await owner.CreateSessionAsync()).Id();
        var other = (await owner.CreateSessionAsync()).Id();
        var before = fixture.PlatformModel.Requests.Count;
        using var otherHost = HostClient(other, asApiKey: true);
        using var admin = await fixture.AdminClientAsync();
        using var anonymous = fixture.CreateApiClient();
        using var host = HostClient(id, asApiKey: false);

        await (await otherHost.SendAsync(GatewayCalls.Anthropic(id, GatewayCalls.AnthropicBody("x")))).AssertErrorAsync(404, "NOT_FOUND");
        await (await owner.SendAsync(GatewayCalls.Anthropic(id, GatewayCalls.AnthropicBody("x")))).AssertErrorAsync(404, "NOT_FOUND");
        await (await admin.SendAsync(GatewayCalls.Anthropic(id, GatewayCalls.AnthropicBody("x")))).AssertErrorAsync(404, "NOT_FOUND");
        await (await anonymous.SendAsync(GatewayCalls.Anthropic(id, GatewayCalls.AnthropicBody("x")))).AssertErrorAsync(401, "UNAUTHORIZED");
        // Only what the SDKs call is forwarded, even for the right Host.
        await (await host.PostAsync($"/api/v0/sessions/{id}/model/anthropic/v1/files", Http.Json(new { }))).AssertErrorAsync(404, "NOT_FOUND");
        // Nor to a provider the session was not given: the platform's key of another provider is not the session's to spend.
        var otherProvider = await (await host.PostAsync($"/api/v0/sessions/{id}/model/openai/chat/completions", Http.Json(new { })))
            .AssertErrorAsync(404, "NOT_FOUND");
        Assert.Equal("This session's model provider is not openai.", (string?)otherProvider["message"]);

        Assert.Equal(before, fixture.PlatformModel.Requests.Count);
        Assert.Equal((0, 0, 0), await owner.UsageAsync(id));
    }

    [Fact]
    public async Task AnUnreachableProviderIsABadGatewayInTheEnvelope()
    {
        var (_, owner) = await fixture.CreateOperatorAsync("gw-down");
        using var _ = owner;
        var key = $"sk-ant-{Guid.NewGuid():N}";
        var id = (await owner.CreateSessionAsync(new { secrets = new { ANTHROPIC_API_KEY = key } })).Id();
        // The provider drops the connection before any answer.
        fixture.PlatformModel.EnqueueFor(key, ScriptStep.Drop());
        using var host = HostClient(id, asApiKey: true);

        var error = await (await host.SendAsync(GatewayCalls.Anthropic(id, GatewayCalls.AnthropicBody("x")))).AssertErrorAsync(502, "BAD_GATEWAY");

        Assert.Equal("The model provider could not be reached.", (string?)error["message"]);
        Assert.Equal((0, 0, 0), await owner.UsageAsync(id));
    }
}
