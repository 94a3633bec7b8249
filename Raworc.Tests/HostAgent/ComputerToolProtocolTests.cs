using System.Text.Json;
using System.Text.Json.Nodes;
using Raworc.HostAgent.Model;
using Raworc.HostAgent.Tools;
using Raworc.HostAgent.Turns;

namespace Raworc.Tests.HostAgent;

/// <summary>
/// How the <c>computer</c> tool and its screenshots travel in each provider's protocol, with a stand-in screen (a tool
/// whose every call answers the same PNG): no desktop needed.
/// </summary>
public sealed class ComputerToolProtocolTests
{
    // A 1x1 PNG: the bytes only have to arrive unchanged.
    private static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task TheScreenshotReachesTheModelAsAnImageAndTheActionIsRecordedWithoutIt(string protocol)
    {
        await using var harness = await AgentHarness.StartAsync(
            ScriptStep.UseComputer("left_click", ("coordinate", new JsonArray(10, 20))),
            ScriptStep.Answer(request => request.LastToolResult));
        var display = protocol == "anthropic" ? ComputerDisplay.Parse("1280x800", ComputerDisplay.AnthropicBox)! : ComputerDisplay.Parse("1280x800", ComputerDisplay.OpenAIBox)!;
        var screen = new AgentTool(AgentTools.ComputerName, "The desktop.", JsonDocument.Parse("""{"type":"object"}""").RootElement,
            (arguments, _) => Task.FromResult(new ToolResult($"Done: {arguments["action"]}.", 0, Png)), display);
        var model = harness.ModelOptionsFor(protocol);
        var runner = new TurnRunner(ChatClientFactory.Create(model), model, [screen],
            new TurnOptions { InstructionsPath = Path.Combine(harness.Root, "none.md"), LogsDirectory = harness.LogsDirectory }, new Redactor([]));

        var posted = await runner.RunAsync([AgentHarness.User("click it")], CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal("computer left_click\nDone: left_click.", posted[0].Content);
        Assert.Equal("computer", posted[0].Metadata["tool"]!.GetValue<string>());
        Assert.Equal("computer", posted[0].Metadata["tool_type"]!.GetValue<string>());
        Assert.Equal("Done: left_click.", posted[1].Content);
        var (first, second) = (harness.Model.Requests[0], harness.Model.Requests[1]);
        Assert.Empty(first.Images);
        Assert.Equal(Png, Assert.Single(second.Images));
        Assert.Equal(["Done: left_click."], second.ToolResults);
        Assert.DoesNotContain(Convert.ToBase64String(Png), File.ReadAllText(Path.Combine(harness.LogsDirectory, ToolLog.FileName)));
        var tool = Assert.Single(first.Body["tools"]!.AsArray())!;
        if (protocol == "anthropic")
        {
            // Anthropic's computer-use tool: declared by type and screen size, enabled by its beta flag.
            Assert.Equal("""{"name":"computer","type":"computer_20250124","display_width_px":1280,"display_height_px":800,"display_number":1}""", tool.ToJsonString());
            Assert.Equal("computer-use-2025-01-24", first.AnthropicBeta);
        }
        else
        {
            Assert.Equal("computer", (string?)tool["function"]!["name"]);
            Assert.Equal("", first.AnthropicBeta);
            // The tool message carries the text; the image follows in a user message.
            var last = second.Body["messages"]!.AsArray()[^1]!;
            Assert.Equal("user", (string?)last["role"]);
            Assert.Equal("image_url", (string?)last["content"]![1]!["type"]);
        }
    }

    [Fact]
    public async Task OnlyTheLastThreeScreenshotsOfATurnAreSent()
    {
        await using var harness = await AgentHarness.StartAsync(
            ScriptStep.UseComputer("screenshot"), ScriptStep.UseComputer("screenshot"), ScriptStep.UseComputer("screenshot"),
            ScriptStep.UseComputer("screenshot"), ScriptStep.UseComputer("screenshot"),
            ScriptStep.Answer(request => request.ToolResults[0]));
        var screen = new AgentTool(AgentTools.ComputerName, "The desktop.", JsonDocument.Parse("""{"type":"object"}""").RootElement,
            (_, _) => Task.FromResult(new ToolResult("Screenshot.", 0, Png)), ComputerDisplay.Parse("1280x800", ComputerDisplay.AnthropicBox));
        var model = harness.ModelOptionsFor("anthropic");
        var runner = new TurnRunner(ChatClientFactory.Create(model), model, [screen],
            new TurnOptions { InstructionsPath = Path.Combine(harness.Root, "none.md"), LogsDirectory = harness.LogsDirectory }, new Redactor([]));

        var posted = await runner.RunAsync([AgentHarness.User("look")], CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal([0, 1, 2, 3, 3, 3], harness.Model.Requests.Select(r => r.Images.Count).ToArray());
        Assert.Equal("Screenshot. (Its screenshot is no longer shown.)", posted[^1].Content);
    }
}
