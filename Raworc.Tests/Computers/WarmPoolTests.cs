using Docker.DotNet.Models;
using Raworc.ApiService.Computers;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Computers;

[ComputerLane]
[Collection(WarmPoolAppCollection.Name)]
public sealed class WarmPoolTests(WarmPoolAppFixture fixture)
{
    [Fact]
    public async Task PooledComputerHoldsNothingBeforeItsClaimThenTheSessionsFilesSecretsAndOneSetupRun()
    {
        var pooled = await fixture.WaitForPoolAsync();
        foreach (var id in pooled)
        {
            var before = await fixture.Probe.ReadVolumeAsync(id);
            // The four folders and the emptied token folder: no file of any session, and the pool token already taken.
            Assert.Equal(["", ".raworc", "code", "data", "logs", "secrets"], before.Where(e => e.Value.IsDirectory).Select(e => e.Key).Order(StringComparer.Ordinal));
            Assert.Empty(before.Where(e => !e.Value.IsDirectory).Select(e => e.Key));
        }

        var (_, client) = await fixture.CreateOperatorAsync("warm");
        using var _ = client;
        var key = ComputersAppFixture.NewModelKey();
        var created = await client.CreateSessionAsync(new
        {
            secrets = new { OPENAI_API_KEY = key, DEMO_SECRET = "demo-value-42" },
            instructions = "Be brief.",
            setup = "echo ran >> /session/data/setup-runs; echo \"$DEMO_SECRET\" > /session/data/secret-seen",
        });
        Assert.Contains(created.Id(), pooled);
        var session = await client.WaitForStateAsync(created.Id(), "idle");

        var container = await fixture.InspectContainerAsync(created.Id());
        Assert.Equal(container.ID, (string?)session["container_id"]);
        Assert.Equal("true", container.Config.Labels[DockerComputerProvider.PooledLabel]);
        Assert.Equal(created.Id().ToString(), container.Config.Labels[DockerComputerProvider.SessionLabel]);
        Assert.DoesNotContain(container.Config.Env, e => e.StartsWith("DEMO_SECRET=", StringComparison.Ordinal));
        var after = await fixture.Probe.ReadVolumeAsync(created.Id());
        Assert.Equal("Be brief.", after["code/instructions.md"].Text);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, after["secrets/DEMO_SECRET"].Mode);
        Assert.Equal("demo-value-42", after["secrets/DEMO_SECRET"].Text);
        Assert.Equal("ran\n", after["data/setup-runs"].Text);
        Assert.Equal("demo-value-42\n", after["data/secret-seen"].Text);
        Assert.False(after.ContainsKey(".raworc/pool-token"));

        // The session's own tools see its secrets in their environment, as in a computer started for it; never the Host token.
        fixture.Model.EnqueueFor(key,
            ScriptStep.CallTool("bash", new System.Text.Json.Nodes.JsonObject { ["command"] = "echo \"secret=$DEMO_SECRET token=${RAWORC_HOST_TOKEN:-none}\"" }),
            ScriptStep.Answer(request => request.LastToolResult));
        await client.PostOkAsync($"/api/v0/sessions/{created.Id()}/messages", new { content = "look" });
        var messages = await client.WaitForMessagesAsync(created.Id(), m => m.HasResponse(), TimeSpan.FromSeconds(60));
        Assert.Equal("exit_code: 0\n<stdout>\nsecret=[REDACTED] token=none\n\n</stdout>\n<stderr>\n\n</stderr>",
            (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
    }

    [Fact]
    [OnlyProvider("docker", "twenty computers at once: the Swarm test cluster holds eight (2 nodes x 2 CPUs / 0.5 CPU), so the ninth errors with the scheduler's reason (seen on Swarm on 2026-12-02)")]
    public async Task TwentyConcurrentCreatesEachGetTheirOwnComputerAndAllAnswer()
    {
        await fixture.WaitForPoolAsync();
        var (_, client) = await fixture.CreateOperatorAsync("burst");
        using var _ = client;
        var keys = Enumerable.Range(0, 20).Select(_ => ComputersAppFixture.NewModelKey()).ToList();
        var created = await Task.WhenAll(keys.Select(key => client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = key } })));
        var ids = created.Select(s => s.Id()).ToList();
        Assert.Equal(20, ids.Distinct().Count());

        var sessions = await Task.WhenAll(ids.Select(id => client.WaitForStateAsync(id, "idle", TimeSpan.FromSeconds(180))));
        var containers = new List<ContainerInspectResponse>();
        foreach (var id in ids)
        {
            containers.Add(await fixture.InspectContainerAsync(id));
        }
        Assert.Equal(20, containers.Select(c => c.ID).Distinct().Count());
        Assert.Equal(ids.Select(id => id.ToString()), containers.Select(c => c.Config.Labels[DockerComputerProvider.SessionLabel]));
        Assert.Equal(sessions.Select(s => (string?)s["container_id"]), containers.Select(c => c.ID));
        Assert.InRange(containers.Count(c => c.Config.Labels.ContainsKey(DockerComputerProvider.PooledLabel)), WarmPoolAppFixture.PoolSize, 20);

        for (var i = 0; i < 20; i++)
        {
            fixture.Model.EnqueueFor(keys[i], ScriptStep.Answer($"answer {i}"));
        }
        await Task.WhenAll(ids.Select(id => client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "hello" })));
        for (var i = 0; i < 20; i++)
        {
            var messages = await client.WaitForMessagesAsync(ids[i], m => m.HasResponse(), TimeSpan.FromSeconds(120));
            Assert.Equal($"answer {i}", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
        }
        foreach (var id in ids)
        {
            await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        }
    }
}
