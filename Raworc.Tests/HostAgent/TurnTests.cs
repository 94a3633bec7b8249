using System.Text.Json.Nodes;
using Raworc.HostAgent.Api;
using Raworc.HostAgent.Turns;

namespace Raworc.Tests.HostAgent;

public sealed class TurnTests
{
    private static readonly TimeSpan TurnTimeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task ToolOutputReachesTheModelAndTheFinalAnswer(string protocol)
    {
        await using var harness = await AgentHarness.StartAsync(
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = "echo hello > greeting.txt; ls" }),
            ScriptStep.Answer(request => "The folder holds: " + request.LastToolResult));
        var runner = harness.CreateRunner(protocol);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var posted = await runner.RunAsync([AgentHarness.User("list the folder")], CancellationToken.None).WaitAsync(TurnTimeout);
        var turnMs = clock.ElapsedMilliseconds;

        var toolOutput = "exit_code: 0\n<stdout>\ngreeting.txt\n\n</stdout>\n<stderr>\n\n</stderr>";
        Assert.Equal(2, posted.Count);
        Assert.Equal("$ echo hello > greeting.txt; ls\n" + toolOutput, posted[0].Content);
        Assert.Equal(MessageTypes.ToolExecution, posted[0].Metadata["type"]!.GetValue<string>());
        Assert.Equal("bash", posted[0].Metadata["tool"]!.GetValue<string>());
        Assert.Equal("bash", posted[0].Metadata["tool_type"]!.GetValue<string>());
        Assert.Equal("echo hello > greeting.txt; ls", Assert.Single(posted[0].Metadata["arguments"]!.AsObject())!.Value!.GetValue<string>());
        Assert.Equal(0, posted[0].Metadata["exit_code"]!.GetValue<int>());
        // The tool call's own time: within the turn's, which holds it.
        Assert.InRange(posted[0].Metadata["duration_ms"]!.GetValue<long>(), 0, turnMs);
        Assert.Equal("The folder holds: " + toolOutput, posted[1].Content);
        Assert.Equal("""{"type":"response","model":"stand-in-model"}""", posted[1].Metadata.ToJsonString());
        Assert.Equal("hello\n", File.ReadAllText(Path.Combine(harness.Root, "greeting.txt")));

        var requests = harness.Model.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Equal(["bash", "str_replace_based_edit_tool"], requests[0].ToolNames);
        Assert.Equal([("user", "list the folder")], requests[0].Messages);
        Assert.Equal("test-key-123", requests[0].ApiKey);
        Assert.Equal([toolOutput], requests[1].ToolResults);
        var logLine = Assert.Single(File.ReadAllLines(Path.Combine(harness.LogsDirectory, ToolLog.FileName)));
        Assert.Equal("bash", JsonNode.Parse(logLine)!["tool"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task StrReplaceThroughTheModelEditsExactlyAndUndoRestores(string protocol)
    {
        await using var harness = await AgentHarness.StartAsync(
            ScriptStep.CallTool("str_replace_based_edit_tool", new JsonObject { ["command"] = "str_replace", ["path"] = "code/app.py", ["old_str"] = "print('hi')", ["new_str"] = "print('bye')" }),
            ScriptStep.Answer("edited"),
            ScriptStep.CallTool("str_replace_based_edit_tool", new JsonObject { ["command"] = "undo_edit", ["path"] = "code/../code/app.py" }),
            ScriptStep.Answer(request => request.LastToolResult));
        var file = Path.Combine(harness.Root, "code", "app.py");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, "import os\nprint('hi')\n");
        var runner = harness.CreateRunner(protocol);

        var edit = await runner.RunAsync([AgentHarness.User("change it")], CancellationToken.None).WaitAsync(TurnTimeout);
        var afterEdit = File.ReadAllText(file);
        var undo = await runner.RunAsync([AgentHarness.User("undo it")], CancellationToken.None).WaitAsync(TurnTimeout);

        Assert.Equal("import os\nprint('bye')\n", afterEdit);
        Assert.Equal(0, edit[0].Metadata["exit_code"]!.GetValue<int>());
        // Raworc 0.3.5's CLI labels a tool run by metadata.tool_type ("text_editor" → "Edit").
        Assert.Equal("str_replace_based_edit_tool", edit[0].Metadata["tool"]!.GetValue<string>());
        Assert.Equal("text_editor", edit[0].Metadata["tool_type"]!.GetValue<string>());
        Assert.Equal("edited", edit[1].Content);
        Assert.Equal("import os\nprint('hi')\n", File.ReadAllText(file));
        Assert.Equal($"Last edit to {file} undone.", undo[1].Content);
    }

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task AnEscapingPathIsRefusedAndTheModelIsTold(string protocol)
    {
        await using var harness = await AgentHarness.StartAsync(
            ScriptStep.CallTool("str_replace_based_edit_tool", new JsonObject { ["command"] = "view", ["path"] = "../../etc/passwd" }),
            ScriptStep.Answer(request => request.LastToolResult));
        var runner = harness.CreateRunner(protocol);

        var posted = await runner.RunAsync([AgentHarness.User("read passwd")], CancellationToken.None).WaitAsync(TurnTimeout);

        var refusal = $"Error: The path '../../etc/passwd' is outside {harness.Root}; only files under {harness.Root} can be used.";
        Assert.Equal(1, posted[0].Metadata["exit_code"]!.GetValue<int>());
        Assert.Equal(refusal, posted[1].Content);
    }

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai")]
    public async Task ASleepPastItsTimeoutIsKilledAndReported(string protocol)
    {
        // A command line no other process of the machine has (computers of other tests run `sleep 600` too).
        var sleep = $"sleep 600.{Random.Shared.Next(100_000, 1_000_000)}";
        await using var harness = await AgentHarness.StartAsync(
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = sleep }),
            ScriptStep.Answer(request => request.LastToolResult));
        var runner = harness.CreateRunner(protocol, bashTimeout: TimeSpan.FromSeconds(2));

        var posted = await runner.RunAsync([AgentHarness.User("wait")], CancellationToken.None).WaitAsync(TurnTimeout);

        var report = "exit_code: 124 (timed out after 2 s; the process tree was killed)\n<stdout>\n\n</stdout>\n<stderr>\n\n</stderr>";
        Assert.Equal(124, posted[0].Metadata["exit_code"]!.GetValue<int>());
        Assert.Equal(report, posted[1].Content);
        Assert.DoesNotContain(sleep, await ProcessListAsync(), StringComparison.Ordinal);
    }

    private static async Task<string> ProcessListAsync()
    {
        using var ps = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ps", "-eo args") { RedirectStandardOutput = true })!;
        return await ps.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }
}
