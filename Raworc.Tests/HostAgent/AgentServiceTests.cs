using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Raworc.HostAgent;
using Raworc.HostAgent.Api;
using Raworc.HostAgent.Turns;

namespace Raworc.Tests.HostAgent;

public sealed class AgentServiceTests
{
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task ThreeMessagesSentWhileATurnRunsAreAllAnsweredInOrderWithoutOverlap(string protocol)
    {
        await using var harness = await AgentHarness.StartAsync(
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = "true" }),
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = "sleep 2" }),
            ScriptStep.Answer("first answer"),
            ScriptStep.Answer(request => string.Join(" ", request.Messages.Where(m => m.Role == "user").SelectMany(m => m.Text.Split('\n')))));
        await using var api = await StandInApi.StartAsync();
        var first = api.AddUserMessage("m0");
        await using var agent = await RunningAgent.StartAsync(api, harness, protocol);

        // The first tool message is posted while the turn goes on; the second call sleeps meanwhile.
        await WaitUntilAsync(() => api.State == "busy" && harness.Model.Requests.Count == 2 && api.Messages.Count == 2);
        api.AddUserMessage("m1");
        api.AddUserMessage("m2");
        var last = api.AddUserMessage("m3");
        await api.WaitForAsync(messages => messages.Count(m => m.EndsTurn) == 2, WaitTimeout);
        await WaitUntilAsync(() => api.State == "idle");

        var answers = api.Messages.Where(m => m.EndsTurn).ToList();
        Assert.Equal("first answer", answers[0].Content);
        Assert.Equal(first.Id, answers[0].Metadata!["reply_to"]!.GetValue<string>());
        Assert.Equal("m0 m1 m2 m3", answers[1].Content);
        Assert.Equal(last.Id, answers[1].Metadata!["reply_to"]!.GetValue<string>());
        Assert.Equal(["idle", "busy", "idle", "busy", "idle"], api.Transitions);
        Assert.Empty(api.Conflicts);
        Assert.Equal(4, harness.Model.Requests.Count);
        Assert.Equal(("assistant", "first answer"), harness.Model.Requests[3].Messages[1]);
        Assert.Equal(
            ["m0", MessageTypes.ToolExecution, "m1", "m2", "m3", MessageTypes.ToolExecution, MessageTypes.Response, MessageTypes.Response],
            api.Messages.Select(m => m.Type ?? m.Content));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task TheSetupProgramRunsBeforeReadyOnlyWhenTheSessionHasASetupScript(bool hasScript)
    {
        await using var harness = await AgentHarness.StartAsync();
        await using var api = await StandInApi.StartAsync();
        // The setup program of this test: it only records that it ran and what the loop had reported by then.
        var runs = Path.Combine(harness.Root, "data", "setup-program-runs");
        var program = Path.Combine(harness.Root, "setup-program");
        File.WriteAllText(program, $"#!/bin/bash\necho ran >> '{runs}'\n");
        File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(Path.Combine(harness.Root, "data"));
        Directory.CreateDirectory(Path.Combine(harness.Root, "logs"));
        // A stale outcome of an earlier start must not survive a start without a script.
        File.WriteAllText(Path.Combine(harness.Root, "logs", "setup.status"), "result=failed\nexit_code=7\n");
        if (hasScript)
        {
            Directory.CreateDirectory(Path.Combine(harness.Root, "code"));
            File.WriteAllText(Path.Combine(harness.Root, "code", "setup.sh"), "true\n");
        }
        var transitionsAtFirstSessionCode = -1;

        await using (var agent = await RunningAgent.StartAsync(api, harness, "openai", program, () => transitionsAtFirstSessionCode = api.Transitions.Count))
        {
            await WaitUntilAsync(() => api.State == "idle" && transitionsAtFirstSessionCode >= 0);
        }

        // With a script: the program ran once, and the standby shell was started before it (no ready report yet). Without:
        // no process ran before ready, the "none" outcome replaced the stale one, and the shell started after the report.
        Assert.Equal(hasScript ? "ran\n" : null, File.Exists(runs) ? File.ReadAllText(runs) : null);
        Assert.Equal(hasScript ? 0 : 1, transitionsAtFirstSessionCode);
        var status = File.ReadAllText(Path.Combine(harness.Root, "logs", "setup.status"));
        if (!hasScript)
        {
            Assert.Matches(@"^result=none\nexit_code=\ntimeout_seconds=300\nfinished_at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$", status);
        }
        else
        {
            // The stand-in program writes no status: the file is the one the test left.
            Assert.Equal("result=failed\nexit_code=7\n", status);
        }
        Assert.Equal(["idle"], api.Transitions);
    }

    [Fact]
    public async Task ARestartedAgentAnswersExactlyTheUnansweredMessages()
    {
        await using var harness = await AgentHarness.StartAsync(ScriptStep.Answer("answer b"));
        await using var api = await StandInApi.StartAsync();
        api.AddUserMessage("a");
        api.Add("host", "answer a", new JsonObject { ["type"] = "response", ["model"] = "m" });
        var b = api.AddUserMessage("b");

        await using (var agent = await RunningAgent.StartAsync(api, harness, "anthropic"))
        {
            await api.WaitForAsync(messages => messages.Count(m => m.EndsTurn) == 2, WaitTimeout);
        }

        var waitsBefore = api.Waits;
        await using (var restarted = await RunningAgent.StartAsync(api, harness, "anthropic"))
        {
            // The restarted agent reports ready, finds nothing unanswered and long-polls: once its poll waits, it has
            // decided there was nothing to answer.
            await WaitUntilAsync(() => api.Conflicts.Count == 1 && api.Waits > waitsBefore);
        }

        var request = Assert.Single(harness.Model.Requests);
        Assert.Equal([("user", "a"), ("assistant", "answer a"), ("user", "b")], request.Messages);
        Assert.Equal(["a", "answer a", "b", "answer b"], api.Messages.Select(m => m.Content));
        Assert.Equal(b.Id, api.Messages[^1].Metadata!["reply_to"]!.GetValue<string>());
        Assert.Equal(["idle while idle"], api.Conflicts);
    }

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task AModel401IsPostedAsAReadableErrorAndTheSessionReturnsToIdle(string protocol)
    {
        await using var harness = await AgentHarness.StartAsync(ScriptStep.Fail(401));
        await using var api = await StandInApi.StartAsync();
        api.AddUserMessage("hi");
        await using var agent = await RunningAgent.StartAsync(api, harness, protocol);

        await api.WaitForAsync(messages => messages.Any(m => m.EndsTurn), WaitTimeout);
        await WaitUntilAsync(() => api.Transitions.Count == 3);

        var error = api.Messages[^1];
        Assert.Equal("host", error.Role);
        Assert.Equal(MessageTypes.Error, error.Type);
        Assert.StartsWith("The model provider rejected the API key (401).", error.Content, StringComparison.Ordinal);
        Assert.Equal(["idle", "busy", "idle"], api.Transitions);
        Assert.Equal("idle", api.State);
    }

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task AModelAnswerThatIsNotJsonIsPostedInWordsWithoutATypeName(string protocol)
    {
        await using var harness = await AgentHarness.StartAsync(ScriptStep.NotJson());
        await using var api = await StandInApi.StartAsync();
        api.AddUserMessage("hi");
        await using var agent = await RunningAgent.StartAsync(api, harness, protocol);

        await api.WaitForAsync(messages => messages.Any(m => m.EndsTurn), WaitTimeout);

        var error = api.Messages[^1];
        Assert.Equal(MessageTypes.Error, error.Type);
        // A user reads it: what failed in words, not the .NET type of the failure (it said "(JsonException)").
        Assert.Equal("The model call failed (the answer was not the JSON expected).", error.Content);
    }

    [Theory]
    [InlineData(503, 2, 3, 1)]
    [InlineData(0, 1, 2, 1)]
    [InlineData(422, 1, 1, 0)]
    public async Task AToolMessagePostThatFailedTransientlyIsPostedAgainButNotAfterA4xx(int status, int refusals, int attempts, int stored)
    {
        // status 0: the connection drops before an answer.
        await using var harness = await AgentHarness.StartAsync(
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = "echo ran" }),
            ScriptStep.Answer("done"));
        await using var api = await StandInApi.StartAsync();
        api.AddUserMessage("run it");
        api.RefusePosts(refusals, status);
        await using var agent = await RunningAgent.StartAsync(api, harness, "openai");

        await api.WaitForAsync(messages => messages.Any(m => m.EndsTurn), WaitTimeout);

        Assert.Equal(attempts + 1, api.PostAttempts);
        Assert.Equal(
            [.. Enumerable.Repeat("$ echo ran\nexit_code: 0\n<stdout>\nran\n\n</stdout>\n<stderr>\n\n</stderr>", stored), "done"],
            api.Messages.Where(m => m.Role == "host").Select(m => m.Content));
    }

    [Fact]
    public async Task AnAgentOverALongHistoryReadsOnlyTheTailItSendsTheModel()
    {
        await using var harness = await AgentHarness.StartAsync(ScriptStep.Answer("tail answer"));
        await using var api = await StandInApi.StartAsync();
        for (var i = 0; i < 3_000; i++)
        {
            var question = api.AddUserMessage($"q{i} " + new string('q', 495));
            api.Add("host", $"a{i} " + new string('a', 495), new JsonObject { ["type"] = "response", ["model"] = "m", ["reply_to"] = question.Id });
        }
        api.AddUserMessage("the newest question");
        var expected = ConversationHistory.Build(api.Messages, new TurnOptions().HistoryBudgetChars).Select(m => (m.Role.Value, m.Text)).ToList();

        await using var agent = await RunningAgent.StartAsync(api, harness, "anthropic");
        await api.WaitForAsync(messages => messages[^1].EndsTurn, WaitTimeout);

        // 400,000 characters of budget hold the newest 799 messages: one page of 1,000, newest first, of the 6,001.
        Assert.Equal(799, expected.Count);
        Assert.Equal(expected, Assert.Single(harness.Model.Requests).Messages);
        Assert.Equal([("desc", 1_000)], api.Reads.Where(read => read.Order == "desc"));
        Assert.Equal("tail answer", api.Messages[^1].Content);
    }

    [Fact]
    public async Task TheWholeHistoryIsLoadedAcrossPages()
    {
        await using var api = await StandInApi.StartAsync();
        for (var i = 0; i < 2_500; i++)
        {
            api.AddUserMessage($"message {i}");
        }

        using var http = RunningAgent.CreateHttpClient(api);
        var client = new RaworcApiClient(http, RunningAgent.OptionsFor(api, Path.GetTempPath()));

        var all = await client.GetAllMessagesAsync(null, CancellationToken.None).WaitAsync(WaitTimeout);

        Assert.Equal(Enumerable.Range(0, 2_500).Select(i => $"message {i}"), all.Select(m => m.Content));
    }

    [Fact]
    public async Task PagesCutBySizeAreFollowedToTheEndOfTheHistory()
    {
        await using var api = await StandInApi.StartAsync();
        api.SizeCut = 7;
        for (var i = 0; i < 50; i++)
        {
            api.AddUserMessage($"message {i}");
        }

        using var http = RunningAgent.CreateHttpClient(api);
        var client = new RaworcApiClient(http, RunningAgent.OptionsFor(api, Path.GetTempPath()));

        var all = await client.GetAllMessagesAsync(null, CancellationToken.None).WaitAsync(WaitTimeout);
        var after = await client.GetAllMessagesAsync(all[9].Id, CancellationToken.None).WaitAsync(WaitTimeout);

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"message {i}"), all.Select(m => m.Content));
        Assert.Equal(Enumerable.Range(10, 40).Select(i => $"message {i}"), after.Select(m => m.Content));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(WaitTimeout);
        while (!condition())
        {
            await Task.Delay(20, cts.Token);
        }
    }

    /// <summary>The real <see cref="AgentService"/> against the stand-in API and model, stopped on dispose.</summary>
    private sealed class RunningAgent(Task running, CancellationTokenSource stopping) : IAsyncDisposable
    {
        public static Task<RunningAgent> StartAsync(StandInApi api, AgentHarness harness, string protocol, string? setupCommand = null,
            Action? beforeSessionCode = null)
        {
            var options = OptionsFor(api, harness.Root) with { SetupCommand = setupCommand };
            var service = new AgentService(new RaworcApiClient(CreateHttpClient(api), options), harness.CreateRunner(protocol), options,
                NullLogger<AgentService>.Instance, beforeSessionCode);
            var stopping = new CancellationTokenSource();
            return Task.FromResult(new RunningAgent(Task.Run(() => service.RunAsync(stopping.Token)), stopping));
        }

        public static AgentOptions OptionsFor(StandInApi api, string root) => new()
        {
            ApiUrl = api.BaseUrl,
            SessionId = StandInApi.SessionId,
            HostToken = StandInApi.HostToken,
            SessionDirectory = root,
            PollWaitSeconds = 5,
            ToolMessageRetryDelay = TimeSpan.FromMilliseconds(10),
        };

        public static HttpClient CreateHttpClient(StandInApi api)
        {
            var http = new HttpClient { BaseAddress = api.BaseUrl, Timeout = TimeSpan.FromSeconds(35) };
            http.DefaultRequestHeaders.Authorization = new("Bearer", StandInApi.HostToken);
            return http;
        }

        public async ValueTask DisposeAsync()
        {
            await stopping.CancelAsync();
            await running.WaitAsync(TimeSpan.FromSeconds(30));
            stopping.Dispose();
        }
    }
}
