using System.Text.Json.Nodes;
using Raworc.HostAgent;
using Raworc.HostAgent.Api;
using Raworc.HostAgent.Model;
using Raworc.HostAgent.Turns;

namespace Raworc.Tests.HostAgent;

public sealed class TurnOutcomeTests
{
    private static readonly TimeSpan TurnTimeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task AModelFailingTwiceWith500StillAnswers(string protocol)
    {
        await using var harness = await AgentHarness.StartAsync(ScriptStep.Fail(500), ScriptStep.Fail(500), ScriptStep.Answer("finally"));
        var runner = harness.CreateRunner(protocol);

        var posted = await runner.RunAsync([AgentHarness.User("hi")], CancellationToken.None).WaitAsync(TurnTimeout);

        var answer = Assert.Single(posted);
        Assert.Equal("finally", answer.Content);
        Assert.Equal(MessageTypes.Response, answer.Type);
        Assert.Equal(3, harness.Model.Requests.Count);
    }

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task AModelRateLimitAndAHungAttemptAreRetriedUntilItAnswers(string protocol)
    {
        await using var harness = await AgentHarness.StartAsync(ScriptStep.Fail(429), ScriptStep.Hang(TimeSpan.FromSeconds(30)), ScriptStep.Answer("patience"));
        var runner = harness.CreateRunner(protocol, harness.ModelOptionsFor(protocol) with { AttemptTimeout = TimeSpan.FromSeconds(1) });

        var posted = await runner.RunAsync([AgentHarness.User("hi")], CancellationToken.None).WaitAsync(TurnTimeout);

        Assert.Equal("patience", Assert.Single(posted).Content);
        Assert.Equal(3, harness.Model.Requests.Count);
    }

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task AModelFailingBeyondTheRetriesEndsTheTurnWithAReadableError(string protocol)
    {
        await using var harness = await AgentHarness.StartAsync(ScriptStep.Fail(503), ScriptStep.Fail(503), ScriptStep.Fail(503), ScriptStep.Fail(503));
        var runner = harness.CreateRunner(protocol);

        var posted = await runner.RunAsync([AgentHarness.User("hi")], CancellationToken.None).WaitAsync(TurnTimeout);

        Assert.Equal("The model provider failed with HTTP 503 after 3 retries. Try again later.", Assert.Single(posted).Content);
        Assert.Equal(4, harness.Model.Requests.Count);
    }

    [Theory]
    [InlineData("anthropic", "ANTHROPIC_API_KEY")]
    [InlineData("openai", "OPENAI_API_KEY")]
    public async Task AModel401EndsTheTurnWithAReadableErrorAndNoRetry(string protocol, string keyName)
    {
        await using var harness = await AgentHarness.StartAsync(ScriptStep.Fail(401), ScriptStep.Answer("never"));
        var runner = harness.CreateRunner(protocol);

        var posted = await runner.RunAsync([AgentHarness.User("hi")], CancellationToken.None).WaitAsync(TurnTimeout);

        var error = Assert.Single(posted);
        Assert.Equal($"The model provider rejected the API key (401). Check {keyName}.", error.Content);
        Assert.Equal("""{"type":"error","code":"model_error","model":"stand-in-model"}""", error.Metadata.ToJsonString());
        Assert.Single(harness.Model.Requests);
    }

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task ASecretPrintedByACommandIsRedactedEverywhereItWouldLeave(string protocol)
    {
        const string secret = "sk-live-0123456789";
        await using var harness = await AgentHarness.StartAsync(
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = $"echo token={secret}" }),
            ScriptStep.Answer(request => "I saw " + request.LastToolResult + " and " + secret));
        var runner = harness.CreateRunner(protocol, secrets: [secret, ""]);

        var posted = await runner.RunAsync([AgentHarness.User("print it")], CancellationToken.None).WaitAsync(TurnTimeout);

        var toolOutput = "exit_code: 0\n<stdout>\ntoken=[REDACTED]\n\n</stdout>\n<stderr>\n\n</stderr>";
        Assert.Equal("$ echo token=[REDACTED]\n" + toolOutput, posted[0].Content);
        Assert.Equal("echo token=[REDACTED]", posted[0].Metadata["arguments"]!["command"]!.GetValue<string>());
        Assert.Equal($"I saw {toolOutput} and [REDACTED]", posted[1].Content);
        Assert.Equal([toolOutput], harness.Model.Requests[1].ToolResults);
        Assert.DoesNotContain(secret, File.ReadAllText(Path.Combine(harness.LogsDirectory, ToolLog.FileName)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task HistoryLongerThanTheBudgetIsTrimmedFromTheOldestEnd(string protocol)
    {
        await using var harness = await AgentHarness.StartAsync(ScriptStep.Answer("ok"));
        var runner = harness.CreateRunner(protocol, turnOptions: new TurnOptions
        {
            InstructionsPath = Path.Combine(harness.Root, "none.md"),
            LogsDirectory = harness.LogsDirectory,
            HistoryBudgetChars = 25,
        });
        SessionMessage[] history =
        [
            AgentHarness.User("first question"),
            AgentHarness.HostAnswer("first answer"),
            AgentHarness.User("second q"),
            AgentHarness.Message(SessionMessage.HostRole, "$ ls\nlots of output", new JsonObject { ["type"] = MessageTypes.ToolExecution }),
            AgentHarness.HostAnswer("second a"),
            AgentHarness.User("third q"),
        ];

        await runner.RunAsync(history, CancellationToken.None).WaitAsync(TurnTimeout);

        var request = Assert.Single(harness.Model.Requests);
        Assert.Equal([("user", "second q"), ("assistant", "second a"), ("user", "third q")], request.Messages);
    }

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task InstructionsAreAppendedToTheSystemPromptEachTurn(string protocol)
    {
        await using var harness = await AgentHarness.StartAsync(ScriptStep.Answer("one"), ScriptStep.Answer("two"));
        var runner = harness.CreateRunner(protocol);
        Directory.CreateDirectory(Path.Combine(harness.Root, "code"));
        var instructions = Path.Combine(harness.Root, "code", "instructions.md");

        File.WriteAllText(instructions, "Answer in French.\n");
        await runner.RunAsync([AgentHarness.User("a")], CancellationToken.None).WaitAsync(TurnTimeout);
        File.WriteAllText(instructions, "Answer in German.\n");
        await runner.RunAsync([AgentHarness.User("b")], CancellationToken.None).WaitAsync(TurnTimeout);

        var requests = harness.Model.Requests;
        Assert.Equal(TurnOptions.DefaultSystemPrompt + "\n\n# Instructions for this session\n\nAnswer in French.", requests[0].System);
        Assert.Equal(TurnOptions.DefaultSystemPrompt + "\n\n# Instructions for this session\n\nAnswer in German.", requests[1].System);
    }

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task HittingTheModelCallLimitEndsTheTurnWithTheModelsSummaryAndANote(string protocol)
    {
        var bashTrue = new JsonObject { ["command"] = "true" };
        await using var harness = await AgentHarness.StartAsync(ScriptStep.CallTool("bash", bashTrue), ScriptStep.CallTool("bash", bashTrue), ScriptStep.Answer("so far: nothing"));
        var runner = harness.CreateRunner(protocol, harness.ModelOptionsFor(protocol) with { MaxModelCallsPerTurn = 3 });

        var posted = await runner.RunAsync([AgentHarness.User("loop")], CancellationToken.None).WaitAsync(TurnTimeout);

        Assert.Equal([2, 2, 0], harness.Model.Requests.Select(r => r.ToolNames.Count));
        Assert.Equal(
            "so far: nothing\n\n(The turn stopped at the limit of 3 model calls per turn, RAWORC_MAX_MODEL_CALLS; send a message to continue.)",
            posted[^1].Content);
        Assert.Equal("""{"type":"response","model":"stand-in-model","limit_reached":true}""", posted[^1].Metadata.ToJsonString());
    }

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task AModelThatKeepsCallingToolsAtTheLimitEndsTheTurnWithAnError(string protocol)
    {
        var loop = Enumerable.Range(0, 5).Select(_ => ScriptStep.CallTool("bash", new JsonObject { ["command"] = "true" })).ToArray();
        await using var harness = await AgentHarness.StartAsync(loop);
        var runner = harness.CreateRunner(protocol, harness.ModelOptionsFor(protocol) with { MaxModelCallsPerTurn = 3 });

        var posted = await runner.RunAsync([AgentHarness.User("loop")], CancellationToken.None).WaitAsync(TurnTimeout);

        Assert.Equal(3, harness.Model.Requests.Count);
        Assert.Equal(
            "The turn stopped: the model made the maximum of 3 model calls without a final answer (RAWORC_MAX_MODEL_CALLS).",
            posted[^1].Content);
        Assert.Equal("model_call_limit", posted[^1].Metadata["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task NoModelConfiguredAnswersWithHowToConfigureOne()
    {
        var options = ModelOptions.FromEnvironment(AgentEnvironment.From(new Dictionary<string, string?>()));
        var runner = new TurnRunner(null, options, [], new TurnOptions { InstructionsPath = "/nonexistent", LogsDirectory = Path.GetTempPath() }, Redactor.None);

        var posted = await runner.RunAsync([AgentHarness.User("hi")], CancellationToken.None).WaitAsync(TurnTimeout);

        var message = Assert.Single(posted);
        Assert.Equal(options.ConfigurationProblem, message.Content);
        Assert.StartsWith("No model is configured. Set ANTHROPIC_API_KEY", message.Content, StringComparison.Ordinal);
        Assert.Equal("model_not_configured", message.Metadata["code"]!.GetValue<string>());
    }
}
