using System.Buffers.Binary;
using System.Net;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.EndToEnd;

/// <summary>
/// Sessions with a desktop (issue 16) over the whole real system: the desktop image, the Host's <c>computer</c> tool
/// driven by the stand-in model (OpenAI protocol through the gateway), and the screenshot endpoint.
/// </summary>
[ComputerLane]
[Collection(ComputersAppCollection.Name)]
public sealed class DesktopTests(ComputersAppFixture fixture) : IAsyncLifetime
{
    /// <summary>On Swarm, deletes the sessions earlier tests left (<see cref="ComputersAppFixture.MakeRoomAsync"/>).</summary>
    public Task InitializeAsync() => fixture.MakeRoomAsync();

    /// <inheritdoc />
    public Task DisposeAsync() => Task.CompletedTask;

    // The fixture's desktop: 1280x800; an OpenAI-compatible model gets screenshots scaled into 1024x768.
    private const int Width = 1280;
    private const int Height = 800;

    [Fact]
    public async Task TheHostOpensATerminalOnTheDesktopAndTypesACommandThatWritesAFile()
    {
        await fixture.PublishDesktopImageAsync();
        var (_, client) = await fixture.CreateOperatorAsync("desk");
        var key = ComputersAppFixture.NewModelKey();
        fixture.Model.EnqueueFor(key,
            ScriptStep.UseComputer("key", ("text", "ctrl+alt+t")),
            ScriptStep.Answer("A terminal is open."));
        var session = await client.CreateSessionAsync(new { desktop = true, secrets = new { OPENAI_API_KEY = key } });
        var id = session.Id();
        Assert.True((bool)session["desktop"]!);
        await client.WaitForStateAsync(id, "idle", TimeSpan.FromSeconds(120));
        await DesktopReadyAsync(id);
        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "Open a terminal." });
        await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(120));

        // The terminal is a window of the desktop (its start is the window manager's business, so it is awaited).
        await Waits.UntilAsync(async () => (await fixture.RunInsideAsync(id, "DISPLAY=:1 xdotool search --onlyvisible --class raworc-terminal")).ExitCode == 0,
            "a terminal window is shown");
        await client.WaitForStateAsync(id, "idle");
        fixture.Model.EnqueueFor(key,
            ScriptStep.UseComputer("type", ("text", "echo written-on-the-desktop > /session/data/desktop.txt\n")),
            ScriptStep.Answer("Typed."));
        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "Write desktop.txt from the terminal." });
        var messages = await client.WaitForMessagesAsync(id, m => m.Count(x => (string?)x!["metadata"]?["type"] == "response") == 2,
            TimeSpan.FromSeconds(120));

        await Waits.UntilAsync(async () => (await fixture.RunInsideAsync(id, "cat /session/data/desktop.txt")).Stdout == "written-on-the-desktop\n",
            "the typed command wrote desktop.txt");
        var actions = messages.Where(m => (string?)m!["metadata"]?["tool"] == "computer").ToList();
        Assert.Equal(["key", "type"], actions.Select(m => (string)m!["metadata"]!["arguments"]!["action"]!).ToArray());
        Assert.All(actions, m => Assert.Equal("computer", (string?)m!["metadata"]!["tool_type"]));
        Assert.All(actions, m => Assert.Equal(0, (int)m!["metadata"]!["exit_code"]!));
        Assert.Equal("computer key", ((string)actions[0]!["content"]!).Split('\n')[0]);
        // Each action's screenshot went to the model, scaled, and into no message.
        var request = fixture.Model.Requests.Last(r => r.ApiKey == key);
        Assert.Contains("computer", request.ToolNames);
        var image = Assert.Single(request.Images);
        Assert.Equal((1024, 640), PngSize(image));
        Assert.DoesNotContain("base64", messages.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheScreenshotIsAPngOfTheDesktopThatChangesAfterAnActionAndIsRefusedWithoutARunningDesktop()
    {
        await fixture.PublishDesktopImageAsync();
        var (_, client) = await fixture.CreateOperatorAsync("desk");
        var key = ComputersAppFixture.NewModelKey();
        var session = await client.CreateSessionAsync(new { desktop = true, secrets = new { OPENAI_API_KEY = key } });
        var id = session.Id();
        await client.WaitForStateAsync(id, "idle", TimeSpan.FromSeconds(120));

        await DesktopReadyAsync(id);
        var before = await ScreenshotAsync(client, id);
        Assert.Equal((Width, Height), PngSize(before));

        // An action of the Host opens a terminal: the screen changes.
        fixture.Model.EnqueueFor(key, ScriptStep.UseComputer("key", ("text", "ctrl+alt+t")), ScriptStep.Answer("Opened."));
        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "Open a terminal." });
        await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(120));
        byte[] after = before;
        await Waits.UntilAsync(async () => !(after = await ScreenshotAsync(client, id)).AsSpan().SequenceEqual(before),
            "the screenshot shows the terminal");
        Assert.Equal((Width, Height), PngSize(after));

        // Closed: 409, and asking does not start the computer. Restored: the desktop is back.
        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        await client.WaitForStateAsync(id, "closed");
        await (await client.GetAsync($"/api/v0/sessions/{id}/screenshot")).AssertErrorAsync(409, "CONFLICT");
        Assert.Equal("closed", (string?)(await client.GetSessionAsync(id.ToString()))["state"]);
        await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
        await client.WaitForStateAsync(id, "idle", TimeSpan.FromSeconds(120));
        Assert.Equal((Width, Height), PngSize(await ScreenshotAsync(client, id)));

        // A session without a desktop: 409 whatever its state.
        var plain = await client.CreateSessionAsync(new { });
        Assert.False((bool)plain["desktop"]!);
        await (await client.GetAsync($"/api/v0/sessions/{plain.Id()}/screenshot")).AssertErrorAsync(409, "CONFLICT");
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v0/sessions/{plain.Id()}")).StatusCode);
    }

    // The window manager takes its key bindings a moment after it starts (seconds under gVisor on a loaded machine).
    private Task DesktopReadyAsync(Guid id) => Waits.UntilAsync(
        async () => (await fixture.RunInsideAsync(id, "DISPLAY=:1 xprop -root _NET_WORKAREA | grep -q =")).ExitCode == 0,
        "the desktop's window manager is ready", TimeSpan.FromSeconds(60));

    private static async Task<byte[]> ScreenshotAsync(HttpClient client, Guid id)
    {
        using var response = await client.GetAsync($"/api/v0/sessions/{id}/screenshot");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsByteArrayAsync();
    }

    private static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        return ((int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(16)), (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(20)));
    }
}
