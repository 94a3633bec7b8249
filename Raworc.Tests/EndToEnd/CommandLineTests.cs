using System.Text.Json.Nodes;
using Raworc.Tests.Cli;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.EndToEnd;

/// <summary><c>raworc send</c> and <c>raworc watch</c> over the whole real system: a real computer, its Host and the stand-in model.</summary>
[ComputerLane]
[Collection(ComputersAppCollection.Name)]
public sealed class CommandLineTests(ComputersAppFixture fixture) : IAsyncLifetime, IDisposable
{
    /// <summary>On Swarm, deletes the sessions earlier tests left (<see cref="ComputersAppFixture.MakeRoomAsync"/>).</summary>
    public Task InitializeAsync() => fixture.MakeRoomAsync();

    /// <inheritdoc />
    public Task DisposeAsync() => Task.CompletedTask;

    private readonly CliRun _cli = new();

    [Fact]
    public async Task SendPrintsTheToolRunAndTheAnswerWhileWatchShowsTheWholeTurn()
    {
        var (user, client) = await fixture.CreateOperatorAsync("cli-e2e", pass: "cli-password-1");
        using var _ = client;
        var url = client.BaseAddress!.ToString().TrimEnd('/');
        Assert.Equal(0, (await _cli.RunAsync(["login", "--url", url, "--user", user, "--pass", "cli-password-1"])).ExitCode);
        var key = ComputersAppFixture.NewModelKey();
        var name = SessionTestExtensions.UniqueName("cli");
        var created = await _cli.RunAsync(["sessions", "create", "--name", name, "--secret", $"OPENAI_API_KEY={key}", "--json"]);
        Assert.Equal(0, created.ExitCode);
        await client.WaitForStateAsync(Guid.Parse((string)JsonNode.Parse(created.Out)!["id"]!), "idle");

        using var stopWatching = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var watch = _cli.StartAsync(["watch", name], cancellationToken: stopWatching.Token);
        await Waits.UntilAsync(() => Task.FromResult(watch.Error.Contains("Watching", StringComparison.Ordinal)), "watch is connected");
        fixture.Model.EnqueueFor(key,
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = "printf 'one\\ntwo\\n'" }),
            ScriptStep.Answer(request => request.LastToolResult.Contains("one\ntwo", StringComparison.Ordinal) ? "The tool printed two lines." : "Unexpected tool output."));

        var sent = await _cli.RunAsync(["send", name, "Run the tool, please."], timeout: TimeSpan.FromMinutes(2));

        Assert.True(sent.ExitCode == 0, sent.Error);
        Assert.Matches(@"^\[bash\] \$ printf 'one\\ntwo\\n' \(exit 0, \d+ ms\)$", sent.Lines[0]);
        // The tool run's output as the Host recorded it, indented under its headline; then the answer.
        string[] toolOutput = ["  exit_code: 0", "  <stdout>", "  one", "  two", "  ", "  </stdout>", "  <stderr>", "  ", "  </stderr>"];
        Assert.Equal([.. toolOutput, "The tool printed two lines."], sent.Lines[1..]);
        Assert.Contains("state: busy", sent.Error.Split('\n'));

        await Waits.UntilAsync(() => Task.FromResult(watch.Out.Contains("state: idle", StringComparison.Ordinal)), "watch saw the session go idle");
        await stopWatching.CancelAsync();
        var watched = await watch.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, watched.ExitCode);
        var lines = watched.Lines;
        Assert.Equal(["user: Run the tool, please.", sent.Lines[0], .. toolOutput, "host: The tool printed two lines."],
            lines.Where(l => !l.StartsWith("state: ", StringComparison.Ordinal)).ToArray());
        Assert.Equal("state: idle", lines[^1]);
        Assert.Contains("state: busy", lines);
    }

    public void Dispose() => _cli.Dispose();
}
