using System.Net;
using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Raworc.HostAgent;
using Raworc.HostAgent.Api;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Sessions;

/// <summary>
/// A message posted again with the same <c>Idempotency-Key</c> is stored once: the Host agent posts a tool message again
/// when the answer to its post was lost, and the post may have committed before the loss.
/// </summary>
[Collection(RaworcAppCollection.Name)]
public sealed class IdempotentMessagesTests(RaworcAppFixture fixture)
{
    private const string KeyHeader = "Idempotency-Key";

    [Fact]
    public async Task AToolMessageWhoseAnswerWasLostIsStoredOnceWhenTheAgentPostsItAgain()
    {
        await using var harness = await AgentHarness.StartAsync(
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = "echo ran" }),
            ScriptStep.Answer("done"));
        var (_, client) = await fixture.CreateOperatorAsync("lostanswer");
        using var _ = client;
        var session = await client.CreateSessionAsync(new { prompt = "run it" });
        var losing = new LosesTheAnswerToTheFirstMessagePost { InnerHandler = new SocketsHttpHandler() };
        using var http = new HttpClient(losing) { BaseAddress = fixture.App.GetEndpoint(ResourceNames.Api, "http") };
        http.DefaultRequestHeaders.Authorization = new("Bearer", fixture.HostToken(session.Id()));
        var options = new AgentOptions
        {
            ApiUrl = http.BaseAddress,
            SessionId = session.Id().ToString(),
            HostToken = "sent by the client already",
            SessionDirectory = harness.Root,
            PollWaitSeconds = 1,
            ToolMessageRetryDelay = TimeSpan.FromMilliseconds(10),
        };
        var agent = new AgentService(new RaworcApiClient(http, options), harness.CreateRunner("openai"), options, NullLogger<AgentService>.Instance);
        using var stopping = new CancellationTokenSource();
        var running = Task.Run(() => agent.RunAsync(stopping.Token));
        try
        {
            await Waits.UntilAsync(async () => (await client.GetMessagesAsync(session.Id().ToString())).Any(m => (string?)m!["content"] == "done"),
                "the answer", TimeSpan.FromSeconds(60));
        }
        finally
        {
            await stopping.CancelAsync();
            await running.WaitAsync(TimeSpan.FromSeconds(30));
        }

        // The tool message's first post committed and its answer was lost; the agent posted it again, with the same key.
        Assert.Equal(1, losing.Lost);
        Assert.Equal(["user:run it", "host:tool_execution", "host:response"],
            (await client.GetMessagesAsync(session.Id().ToString())).Select(m => $"{m!["role"]}:{(string?)m["metadata"]?["type"] ?? m["content"]}"));
    }

    [Fact]
    public async Task TheClientLibraryPostsAMessageWhoseAnswerWasLostAgainAndItIsStoredOnce()
    {
        var (_, operatorClient) = await fixture.CreateOperatorAsync("sdkretry");
        using var _ = operatorClient;
        var token = operatorClient.DefaultRequestHeaders.Authorization!.Parameter;
        var losing = new LosesTheAnswerToTheFirstMessagePost { InnerHandler = new SocketsHttpHandler() };
        using var http = new HttpClient(losing) { BaseAddress = fixture.App.GetEndpoint(ResourceNames.Api, "http") };
        var raworc = new Raworc.Client.RaworcClient(http, token) { MessagePostRetryDelay = TimeSpan.FromMilliseconds(10) };
        var session = await raworc.CreateSessionAsync();

        var posted = await raworc.PostMessageAsync(session.Id.ToString(), "once");

        Assert.Equal(1, losing.Lost);
        var stored = Assert.Single(await raworc.ListMessagesAsync(session.Id.ToString()));
        Assert.Equal((posted.Id, "once"), (stored.Id, stored.Content));
    }

    [Fact]
    public async Task APostRepeatedWithItsKeyAnswersTheStoredMessageAgainAndStartsNoTurn()
    {
        var (_, client) = await fixture.CreateOperatorAsync("repeater");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        using var host = fixture.CreateHostClient(session.Id());
        var path = $"/api/v0/sessions/{session.Id()}/messages";
        await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/idle");

        var first = await PostAsync(client, path, "key-1", new { content = "hello", metadata = new { n = 1.5, tag = "ü" } });
        await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/idle");
        var again = await PostAsync(client, path, "key-1", new { content = "hello", metadata = new { tag = "ü", n = 1.5 } });

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal(first.Headers.Location, again.Headers.Location);
        var (stored, replayed) = (await first.ReadObjectAsync(), await again.ReadObjectAsync());
        Assert.True(JsonNode.DeepEquals(stored, replayed), $"{stored.ToJsonString()} != {replayed.ToJsonString()}");
        Assert.Equal(["hello"], (await client.GetMessagesAsync(session.Id().ToString())).Select(m => (string?)m!["content"]));
        // The first post started a turn (idle → busy); the repeated one changed nothing.
        Assert.Equal("idle", (string?)(await client.GetSessionAsync(session.Id().ToString()))["state"]);
    }

    [Fact]
    public async Task TenConcurrentPostsWithOneKeyStoreOneMessageAndAllAnswerIt()
    {
        var (_, client) = await fixture.CreateOperatorAsync("racer");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        var path = $"/api/v0/sessions/{session.Id()}/messages";

        // Those that miss each other's row in the look-up meet at the unique index; the losers answer the winner's message.
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => PostAsync(client, path, "race-key", new { content = "once" })));

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.Created, response.StatusCode));
        var ids = await Task.WhenAll(responses.Select(async response => (string?)(await response.ReadObjectAsync())["id"]));
        var stored = Assert.Single(await client.GetMessagesAsync(session.Id().ToString()));
        Assert.All(ids, id => Assert.Equal((string?)stored!["id"], id));
    }

    [Fact]
    public async Task AKeyReusedWithAnotherBodyIsRefusedAndAKeyIsPerSession()
    {
        var (_, client) = await fixture.CreateOperatorAsync("reuser");
        using var _ = client;
        var one = await client.CreateSessionAsync();
        var other = await client.CreateSessionAsync();

        await PostAsync(client, $"/api/v0/sessions/{one.Id()}/messages", "shared-key", new { content = "first" });
        var reused = await PostAsync(client, $"/api/v0/sessions/{one.Id()}/messages", "shared-key", new { content = "second" });
        var elsewhere = await PostAsync(client, $"/api/v0/sessions/{other.Id()}/messages", "shared-key", new { content = "second" });

        var error = await reused.AssertErrorAsync(422, "VALIDATION_ERROR");
        Assert.Equal("was used for another message of this session; a repeated post must send the same body",
            (string?)error["details"]![KeyHeader]![0]);
        Assert.Equal(HttpStatusCode.Created, elsewhere.StatusCode);
        Assert.Equal(["first"], (await client.GetMessagesAsync(one.Id().ToString())).Select(m => (string?)m!["content"]));
        Assert.Equal(["second"], (await client.GetMessagesAsync(other.Id().ToString())).Select(m => (string?)m!["content"]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a key with spaces")]
    [InlineData("256")]
    public async Task AKeyThatIsNotOneToTwoHundredFiftyFiveVisibleCharactersIsRefused(string key)
    {
        var (_, client) = await fixture.CreateOperatorAsync("badkey");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        var path = $"/api/v0/sessions/{session.Id()}/messages";

        var response = await PostAsync(client, path, key == "256" ? new string('k', 256) : key, new { content = "hello" });

        var error = await response.AssertErrorAsync(422, "VALIDATION_ERROR");
        Assert.Equal("must be 1 to 255 visible ASCII characters", (string?)error["details"]![KeyHeader]![0]);
        Assert.Empty(await client.GetMessagesAsync(session.Id().ToString()));
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Http.Json(body) };
        request.Headers.TryAddWithoutValidation(KeyHeader, key);
        return await client.SendAsync(request);
    }

    /// <summary>
    /// Lets the first <c>POST …/messages</c> reach the API and be answered, then throws as if the connection had dropped
    /// before the answer arrived: the message is stored, and the client does not know it.
    /// </summary>
    private sealed class LosesTheAnswerToTheFirstMessagePost : DelegatingHandler
    {
        private int _lost;

        /// <summary>How many answers were lost (at most 1).</summary>
        public int Lost => Volatile.Read(ref _lost);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath.TrimEnd('/').EndsWith("/messages", StringComparison.Ordinal)
                && response.StatusCode == HttpStatusCode.Created && Interlocked.CompareExchange(ref _lost, 1, 0) == 0)
            {
                response.Dispose();
                throw new HttpRequestException(HttpRequestError.ResponseEnded, "The connection was closed before the answer.");
            }
            return response;
        }
    }
}
