using System.Net;
using System.Text.Json.Nodes;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.EndToEnd;

/// <summary>The main job, as a REST client runs it, over the whole real system (issue 7; README "Walkthrough").</summary>
[ComputerLane]
[Collection(ComputersAppCollection.Name)]
public sealed class MainJobTests(ComputersAppFixture fixture) : IAsyncLifetime
{
    /// <summary>On Swarm, deletes the sessions earlier tests left (<see cref="ComputersAppFixture.MakeRoomAsync"/>).</summary>
    public Task InitializeAsync() => fixture.MakeRoomAsync();

    /// <inheritdoc />
    public Task DisposeAsync() => Task.CompletedTask;

    private const string Secret = "tok-e2e-7f3a-secret-value";
    private readonly List<string> _bodies = [];

    private async Task<JsonObject> RecordAsync(Task<HttpResponseMessage> call)
    {
        var response = await call;
        var text = await response.Content.ReadAsStringAsync();
        _bodies.Add(text);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text) is JsonObject o ? o : new JsonObject { ["items"] = JsonNode.Parse(text) };
    }

    [Fact]
    public async Task AUserRunsASessionThroughItsWholeLife()
    {
        // 1. Admin creates alice; alice logs in.
        using var admin = await fixture.AdminClientAsync();
        var alice = SessionTestExtensions.UniqueName("alice");
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsync("/api/v0/operators", Http.Json(new { user = alice, pass = "alice-password-1" }))).StatusCode);
        using var client = fixture.CreateApiClient(await fixture.LoginAsync(alice, "alice-password-1"));

        // 2. A session with a secret, instructions, a setup script and a prompt; the Host writes hello.txt.
        var key = ComputersAppFixture.NewModelKey();
        fixture.Model.EnqueueFor(key,
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = "printf 'Hello from Raworc' > /session/data/hello.txt && cat /session/data/hello.txt && echo \" token=$DEMO_TOKEN\"" }),
            ScriptStep.Answer(request => request.LastToolResult.Contains("Hello from Raworc token=[REDACTED]", StringComparison.Ordinal)
                ? "Done: hello.txt says Hello from Raworc"
                : $"Unexpected tool result: {request.LastToolResult}"));
        var name = SessionTestExtensions.UniqueName("demo");
        var created = await RecordAsync(client.PostAsync("/api/v0/sessions", Http.Json(new
        {
            name,
            secrets = new { DEMO_TOKEN = Secret, OPENAI_API_KEY = key },
            instructions = "You are the demo Host. Keep answers short.",
            setup = "touch /session/data/setup-ran",
            prompt = "Write hello.txt in /session/data saying 'Hello from Raworc'.",
        })));
        var id = created.Id();
        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse());
        await client.WaitForStateAsync(id, "idle");

        // 3. The file is there, the activity and the answer are in order, the secret is nowhere.
        Assert.Equal("Hello from Raworc", await fixture.ExecAsync(id, "cat", "/session/data/hello.txt"));
        Assert.Equal("", await fixture.ExecAsync(id, "cat", "/session/data/setup-ran"));
        Assert.Equal(["user", "host:tool_execution", "host:response"],
            messages.Select(m => (string)m!["role"]! == "host" ? $"host:{m["metadata"]!["type"]}" : (string)m["role"]!).ToArray());
        Assert.Equal("bash", (string?)messages[1]!["metadata"]!["tool"]);
        Assert.Equal(0, (int)messages[1]!["metadata"]!["exit_code"]!);
        Assert.Equal("Done: hello.txt says Hello from Raworc", (string?)messages[2]!["content"]);
        Assert.Contains("Hello from Raworc token=[REDACTED]", messages[1]!.ToJsonString());
        Assert.Contains("You are the demo Host. Keep answers short.", fixture.Model.Requests.Last(r => r.ApiKey == key).System);
        _bodies.Add(await (await client.GetAsync($"/api/v0/sessions/{id}/messages")).Content.ReadAsStringAsync());
        _bodies.Add(await (await client.GetAsync($"/api/v0/sessions/{id}")).Content.ReadAsStringAsync());

        // 4. Close; a new message restores the session by itself and is answered; the file survived.
        await RecordAsync(client.PostAsync($"/api/v0/sessions/{id}/close", Http.Json(new { })));
        await client.WaitForStateAsync(id, "closed");
        fixture.Model.EnqueueFor(key,
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = "cat /session/data/hello.txt" }),
            ScriptStep.Answer(request => request.LastToolResult.Contains("Hello from Raworc", StringComparison.Ordinal) ? "Still there." : "Gone."));
        await RecordAsync(client.PostAsync($"/api/v0/sessions/{id}/messages", Http.Json(new { content = "Is hello.txt still there?" })));
        messages = await client.WaitForMessagesAsync(id, m => m.Count(x => (string?)x!["metadata"]?["type"] == "response") == 2);
        Assert.Equal("Still there.", (string?)messages.Last()!["content"]);
        await client.WaitForStateAsync(id, "idle");

        // 5. Remix with data only: data/ is copied, code/ and the secrets are not.
        var child = await RecordAsync(client.PostAsync($"/api/v0/sessions/{id}/remix", Http.Json(new { data = true, code = false, secrets = false })));
        await client.WaitForStateAsync(child.Id(), "idle");
        Assert.Equal("Hello from Raworc", await fixture.ExecAsync(child.Id(), "cat", "/session/data/hello.txt"));
        Assert.Equal("", (await fixture.ExecAsync(child.Id(), "ls", "-A", "/session/code")).Trim());
        Assert.Equal("", (await fixture.ExecAsync(child.Id(), "ls", "-A", "/session/secrets")).Trim());
        Assert.Equal("", (await fixture.ExecAsync(child.Id(), "printenv", "DEMO_TOKEN")).Trim());

        // 6. Published without secrets: anyone sees it, another operator remixes it, but not its secrets.
        await RecordAsync(client.PostAsync($"/api/v0/sessions/{id}/publish", Http.Json(new { data = true, code = true, secrets = false })));
        using var anonymous = fixture.CreateApiClient();
        var published = await anonymous.GetAsync("/api/v0/published/sessions?limit=1000");
        var publishedText = await published.Content.ReadAsStringAsync();
        _bodies.Add(publishedText);
        var entry = JsonNode.Parse(publishedText)!.AsArray().Single(s => (string?)s!["id"] == id.ToString())!.AsObject();
        Assert.False(entry.ContainsKey("container_id"));
        Assert.False(entry.ContainsKey("persistent_volume_id"));
        var (_, bob) = await fixture.CreateOperatorAsync("bob");
        using (bob)
        {
            await (await bob.PostAsync($"/api/v0/sessions/{id}/remix", Http.Json(new { secrets = true }))).AssertErrorAsync(403, "FORBIDDEN");
            var bobs = await RecordAsync(bob.PostAsync($"/api/v0/sessions/{id}/remix", Http.Json(new { })));
            Assert.Equal(id.ToString(), (string?)bobs["parent_session_id"]);
            await bob.WaitForStateAsync(bobs.Id(), "idle");
            Assert.Equal("", (await fixture.ExecAsync(bobs.Id(), "printenv", "DEMO_TOKEN")).Trim());
            Assert.Equal("Hello from Raworc", await fixture.ExecAsync(bobs.Id(), "cat", "/session/data/hello.txt"));
            Assert.Equal(HttpStatusCode.NoContent, (await bob.DeleteAsync($"/api/v0/sessions/{bobs.Id()}")).StatusCode);
        }

        // 7. A short idle timeout closes the session by itself; deleting removes computers and volumes.
        await RecordAsync(client.PutAsync($"/api/v0/sessions/{id}", Http.Json(new { timeout_seconds = 2 })));
        await client.WaitForStateAsync(id, "closed", TimeSpan.FromSeconds(15));
        foreach (var session in new[] { id, child.Id() })
        {
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v0/sessions/{session}")).StatusCode);
            await Waits.UntilAsync(async () => await fixture.Probe.InspectAsync(session) is null && !await fixture.Probe.VolumeExistsAsync(session),
                $"session {session}'s container and volume are gone");
        }

        Assert.All(_bodies, body => Assert.DoesNotContain(Secret, body));
    }
}
