using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Raworc.HostAgent;
using Raworc.HostAgent.Api;

namespace Raworc.Tests.HostAgent;

public sealed class HostAgentWiringTests
{
    [Fact]
    public async Task TheAgentConfiguredFromEnvironmentVariablesAnswersAndRedactsSecrets()
    {
        const string secret = "supersecret-value-42";
        await using var harness = await AgentHarness.StartAsync(
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = $"echo {secret}" }),
            ScriptStep.Answer(request => request.LastToolResult));
        await using var api = await StandInApi.StartAsync();
        api.AddUserMessage("show the secret");
        var environment = AgentEnvironment.From(new Dictionary<string, string?>
        {
            ["RAWORC_API_URL"] = new Uri(api.BaseUrl, "api/v0").ToString(),
            ["RAWORC_SESSION_ID"] = StandInApi.SessionId,
            ["RAWORC_HOST_TOKEN"] = StandInApi.HostToken,
            ["RAWORC_SESSION_DIR"] = harness.Root,
            ["RAWORC_POLL_WAIT_SECONDS"] = "5",
            ["RAWORC_MODEL_PROVIDER"] = "openai",
            ["RAWORC_MODEL"] = "stand-in-model",
            ["RAWORC_MODEL_BASE_URL"] = harness.Model.OpenAIBaseUrl.ToString(),
            ["OPENAI_API_KEY"] = "test-key-123",
            ["RAWORC_SECRET_NAMES"] = "MY_TOKEN, OTHER",
            ["MY_TOKEN"] = secret,
        });
        using var stopping = new CancellationTokenSource();

        var running = Task.Run(() => HostAgentSetup.Create(environment, NullLoggerFactory.Instance).RunAsync(stopping.Token));
        await api.WaitForAsync(messages => messages.Any(m => m.EndsTurn), TimeSpan.FromSeconds(60));
        await stopping.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(60));

        var posted = api.Messages.Where(m => m.Role == "host").ToList();
        Assert.Equal([MessageTypes.ToolExecution, MessageTypes.Response], posted.Select(m => m.Type));
        Assert.Equal("exit_code: 0\n<stdout>\n[REDACTED]\n\n</stdout>\n<stderr>\n\n</stderr>", posted[1].Content);
        Assert.All(api.Messages, m => Assert.DoesNotContain(secret, m.Content + m.Metadata?.ToJsonString(), StringComparison.Ordinal));
        Assert.Equal("test-key-123", harness.Model.Requests[0].ApiKey);
        Assert.Equal(["idle", "busy", "idle"], api.Transitions);
    }
}
