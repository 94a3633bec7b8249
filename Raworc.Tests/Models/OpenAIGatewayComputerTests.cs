using System.Net;
using System.Text.Json.Nodes;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Models;

/// <summary>Real computers whose agents reach the stand-in (OpenAI protocol) only through the gateway.</summary>
[ComputerLane]
[Collection(ComputersAppCollection.Name)]
public sealed class OpenAIGatewayComputerTests(ComputersAppFixture fixture)
{
    [Fact]
    public async Task TheHostsCallsCarryTheSessionsOwnKeyNeverItsTokenAndTheirUsageIsCounted()
    {
        var (_, client) = await fixture.CreateOperatorAsync("gw-agent");
        using var _ = client;
        var key = ComputersAppFixture.NewModelKey();
        fixture.Model.EnqueueFor(key, ScriptStep.CallTool("bash", new JsonObject { ["command"] = "echo gateway" }), ScriptStep.Answer("done"));
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = key }, prompt = "say it" })).Id();

        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse());
        await client.WaitForStateAsync(id, "idle");

        Assert.Equal("done", (string?)messages.Last()!["content"]);
        var received = fixture.Model.Requests.Where(r => r.ApiKey == key).ToList();
        Assert.Equal(2, received.Count);
        Assert.All(received, r => Assert.Equal($"Bearer {key} ", r.Credentials));
        Assert.Equal((2, received.Sum(r => r.ReportedUsage!.Value.Input), received.Sum(r => r.ReportedUsage!.Value.Output)),
            await client.UsageAsync(id));
    }

    [Fact]
    public async Task ASessionWithoutAKeyOfItsOwnIsServedWithThePlatformKey()
    {
        var (_, client) = await fixture.CreateOperatorAsync("gw-platform");
        using var _ = client;
        var marker = $"platform {Guid.NewGuid():N}";
        fixture.Model.EnqueueFor("platform-key", ScriptStep.Answer("served"));
        var id = (await client.CreateSessionAsync(new { prompt = marker })).Id();

        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse());
        await client.WaitForStateAsync(id, "idle");

        Assert.Equal("served", (string?)messages.Last()!["content"]);
        var received = Assert.Single(fixture.Model.Requests, r => r.Messages.Any(m => m.Text == marker));
        Assert.Equal("Bearer platform-key ", received.Credentials);
        Assert.Equal((1, received.ReportedUsage!.Value.Input, received.ReportedUsage!.Value.Output), await client.UsageAsync(id));
    }

    [Fact]
    public async Task AStreamedAnswerPassesThroughAsItIsWrittenAndOnlyReportedUsageIsCounted()
    {
        var (_, client) = await fixture.CreateOperatorAsync("gw-openai-stream");
        using var _ = client;
        var key = ComputersAppFixture.NewModelKey();
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = key } })).Id();
        var release = new TaskCompletionSource();
        fixture.Model.EnqueueFor(key, ScriptStep.Stream("first-part", "second-part", release.Task), ScriptStep.Answer("no usage asked"));
        using var host = fixture.CreateHostClient(id);

        using var response = await host.SendAsync(GatewayCalls.OpenAI(id, GatewayCalls.OpenAIBody("stream", stream: true, includeUsage: true)),
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await GatewayCalls.ReadStreamAsync(response, "first-part", release.SetResult);
        Assert.Contains("second-part", text, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);

        // Streamed without stream_options.include_usage, the provider reports no tokens: the call counts, its tokens cannot.
        using var plain = await host.SendAsync(GatewayCalls.OpenAI(id, GatewayCalls.OpenAIBody("stream", stream: true)));
        Assert.Contains("no usage asked", await plain.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var first = fixture.Model.Requests.First(r => r.ApiKey == key).ReportedUsage!.Value;
        Assert.Equal((2, first.Input, first.Output), await client.UsageAsync(id));
    }
}
