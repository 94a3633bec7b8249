using System.Text.Json.Nodes;
using Docker.DotNet;
using Docker.DotNet.Models;
using Raworc.HostAgent.Api;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.HostAgent;

/// <summary>
/// The agent as the computers run it: the Native AOT executable in the image (<c>RAWORC_AGENT_IMAGE</c>), against the
/// stand-in API and model on loopback (host network). The in-process tests run the same code under the JIT, where
/// reflection still works; here a type missing from a source-generated JSON context would fail the turn.
/// </summary>
public sealed class NativeAgentImageTests
{
    private const string Output = "exit_code: 0\n<stdout>\nnative\n\n</stdout>\n<stderr>\n\n</stderr>";

    [Theory]
    [InlineData("anthropic", "ANTHROPIC_API_KEY")]
    [InlineData("openai", "OPENAI_API_KEY")]
    public async Task TheImagesAgentCallsAToolAndAnswersInEitherProtocol(string protocol, string keyVariable)
    {
        await using var model = await StandInModelServer.StartAsync(
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = "echo native" }),
            ScriptStep.Answer(request => request.LastToolResult));
        await using var api = await StandInApi.StartAsync();
        api.AddUserMessage("run it");
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        var container = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = ComputersAppFixture.SourceImage,
            Env =
            [
                $"RAWORC_API_URL={api.BaseUrl}",
                $"RAWORC_SESSION_ID={StandInApi.SessionId}",
                $"RAWORC_HOST_TOKEN={StandInApi.HostToken}",
                "RAWORC_POLL_WAIT_SECONDS=5",
                $"RAWORC_MODEL_PROVIDER={protocol}",
                "RAWORC_MODEL=stand-in-model",
                $"RAWORC_MODEL_BASE_URL={model.BaseUrlFor(protocol)}",
                $"{keyVariable}=test-key-123",
            ],
            // The stand-ins listen on the host's loopback only.
            HostConfig = new HostConfig { NetworkMode = "host" },
        });
        try
        {
            await docker.Containers.StartContainerAsync(container.ID, new ContainerStartParameters());
            await api.WaitForAsync(messages => messages.Any(m => m.EndsTurn), TimeSpan.FromSeconds(60));
            // After the turn the agent marks itself idle, then long-polls: the first wait follows the last transition.
            await Waits.UntilAsync(() => Task.FromResult(api.Waits > 0), "the agent long-polls after its turn");
        }
        finally
        {
            await docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true });
        }

        var posted = api.Messages.Where(m => m.Role == SessionMessage.HostRole).ToList();
        Assert.Equal([MessageTypes.ToolExecution, MessageTypes.Response], posted.Select(m => m.Type));
        Assert.Equal("$ echo native\n" + Output, posted[0].Content);
        Assert.Equal(Output, posted[1].Content);
        Assert.Equal([protocol, protocol], model.Requests.Select(r => r.Protocol));
        Assert.Equal(["test-key-123", "test-key-123"], model.Requests.Select(r => r.ApiKey));
        // Each protocol's own header: x-api-key for Anthropic, a bearer token for OpenAI ("Authorization x-api-key").
        Assert.Equal(protocol == "anthropic" ? " test-key-123" : "Bearer test-key-123 ", model.Requests[0].Credentials);
        Assert.Equal([Output], model.Requests[1].ToolResults);
        Assert.Equal(["idle", "busy", "idle"], api.Transitions);
    }
}
