using System.Text.Json.Nodes;
using Docker.DotNet.Models;
using Raworc.ApiService.Computers;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.EndToEnd;

/// <summary>
/// The API as two replicas (issue 17 item 5; README "Running several API replicas"): each step goes to one replica directly,
/// the next to the other, and the work, the deadlines and the wake-ups still happen exactly once.
/// </summary>
/// <remarks>
/// The test that kills a replica runs last (its name sorts last): the killed replica is not started again, since a restart
/// of one instance of a replicated resource did not always come back in time on a loaded machine.
/// </remarks>
[Collection(ReplicasAppCollection.Name)]
[TestCaseOrderer(AlphabeticalOrderer.TypeName, AlphabeticalOrderer.AssemblyName)]
public sealed class ReplicasTests(ReplicasAppFixture fixture)
{
    private async Task<(HttpClient A, HttpClient B, IReadOnlyList<ReplicasAppFixture.Replica> Replicas)> ClientsAsync(string prefix)
    {
        var replicas = await fixture.ReplicasAsync();
        var (name, proxied) = await fixture.CreateOperatorAsync(prefix);
        proxied.Dispose();
        var token = await fixture.LoginAsync(name, "operator-pass-1");
        return (fixture.CreateReplicaClient(replicas[0], token), fixture.CreateReplicaClient(replicas[1], token), replicas);
    }

    /// <summary>Each work item of the session with its number of runs and their outcomes, in queue order.</summary>
    private async Task<List<string>> RunsAsync(Guid session) => await fixture.QueryAsync<string>(
        """
        SELECT kind || ' x' || count(*) || ' ' || string_agg(coalesce(outcome, 'running'), ',' ORDER BY id)
        FROM work_runs WHERE session_id = @id GROUP BY work_item_id, kind ORDER BY work_item_id
        """, ("id", session));

    private Task<List<string>> StatesAsync(Guid session) =>
        fixture.QueryAsync<string>("SELECT state FROM state_changes WHERE session_id = @id ORDER BY seq", ("id", session));

    [Fact]
    public async Task TheMainJobCloseRestoreAndTheIdleDeadlineWorkThroughEitherReplicaAndEachWorkItemRunsOnce()
    {
        var (a, b, _) = await ClientsAsync("replicas");
        using var _a = a;
        using var _b = b;
        var key = ComputersAppFixture.NewModelKey();
        fixture.Model.EnqueueFor(key, ScriptStep.Answer("first answer"));
        var id = (await a.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = key } })).Id();
        await b.WaitForStateAsync(id, "idle");

        // A long-poll held by B wakes for a message posted through A, and an event stream on A sees B's close.
        var poll = b.GetAsync($"/api/v0/sessions/{id}/messages?wait=30");
        await using var events = await EventStreamClient.OpenAsync(a, id.ToString(), query: "?after=0");
        await a.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "hello" });
        var woken = await (await poll.WaitAsync(TimeSpan.FromSeconds(40))).ReadArrayAsync();
        Assert.Equal("hello", (string?)woken[0]!["content"]);
        var messages = await a.WaitForMessagesAsync(id, m => m.HasResponse());
        Assert.Equal("first answer", (string?)messages.Last()!["content"]);
        await b.WaitForStateAsync(id, "idle");

        await b.PostOkAsync($"/api/v0/sessions/{id}/close");
        await a.WaitForStateAsync(id, "closed");
        while (true)
        {
            var (type, _, data) = await events.NextAsync();
            if (type == "state" && (string?)data["state"] == "closed")
            {
                break;
            }
        }

        // A message through B restores it; A's idle deadline setting closes it once, by whichever replica sweeps.
        fixture.Model.EnqueueFor(key, ScriptStep.Answer("second answer"));
        await b.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "again" });
        messages = await a.WaitForMessagesAsync(id, m => m.Count(x => (string?)x!["metadata"]?["type"] == "response") == 2);
        Assert.Equal("second answer", (string?)messages.Last()!["content"]);
        await b.WaitForStateAsync(id, "idle");
        Assert.Equal(System.Net.HttpStatusCode.OK, (await a.PutAsync($"/api/v0/sessions/{id}", Http.Json(new { timeout_seconds = 2 }))).StatusCode);
        await b.WaitForStateAsync(id, "closed", TimeSpan.FromSeconds(20));

        // The state turns closed first; the close's work (stopping the computer) follows.
        await Waits.UntilAsync(async () => (await fixture.QueryAsync<long>("SELECT count(*) FROM work_items WHERE session_id = @id", ("id", id)))[0] == 0,
            "the session's work is done");
        Assert.Equal(["create x1 done", "close x1 done", "restore x1 done", "close x1 done"], await RunsAsync(id));
        Assert.Equal(["idle", "busy", "idle", "closed", "init", "busy", "idle", "closed"], await StatesAsync(id));
    }

    [Fact]
    public async Task TheReconcilerOfEitherReplicaClosesASessionWhoseComputerVanishedExactlyOnce()
    {
        var (a, b, _) = await ClientsAsync("reconciled");
        using var _a = a;
        using var _b = b;
        var id = (await b.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() } })).Id();
        await a.WaitForStateAsync(id, "idle");

        await fixture.Docker.Containers.RemoveContainerAsync(DockerComputerProvider.NameOf(id), new ContainerRemoveParameters { Force = true });
        await a.WaitForStateAsync(id, "closed");

        Assert.Equal(["idle", "closed"], await StatesAsync(id));
        // The computer is gone already: the close queues no work.
        Assert.Equal(["create x1 done"], await RunsAsync(id));
    }

    [Fact]
    public async Task WhenTheReplicaThatServesTheComputersIsKilledMidTurnNoMessageIsLostAndNoSessionIsStranded()
    {
        var (a, b, replicas) = await ClientsAsync("killed");
        var key = ComputersAppFixture.NewModelKey();
        var id = (await a.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = key } })).Id();
        await b.WaitForStateAsync(id, "idle");
        var serving = await fixture.ComputerSocketReplicaAsync(replicas);
        Assert.NotNull(serving);
        var survivor = fixture.CreateReplicaClient(replicas.Single(r => r != serving), await fixture.LoginAsync("admin", RaworcAppFixture.AdminPassword));
        using var _a = a;
        using var _b = b;
        using var _s = survivor;
        // The tool runs for a few seconds; the replica the Host talks to dies meanwhile.
        var marker = $"/tmp/turn-{Guid.NewGuid():N}";
        fixture.Model.EnqueueFor(key,
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = $"touch {marker}; sleep 4; echo slept" }),
            ScriptStep.Answer(request => request.LastToolResult.Contains("slept", StringComparison.Ordinal) ? "survived" : $"unexpected: {request.LastToolResult}"));
        await survivor.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "sleep a little" });
        await Waits.UntilAsync(async () => (await fixture.RunInsideAsync(id, $"test -e {marker}")).ExitCode == 0, "the tool runs");
        ReplicasAppFixture.Kill(serving);

        var messages = await survivor.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(90));
        Assert.Equal(["user", "host:tool_execution", "host:response"],
            messages.Select(m => (string)m!["role"]! == "host" ? $"host:{m["metadata"]!["type"]}" : (string)m["role"]!).ToArray());
        Assert.Equal("survived", (string?)messages.Last()!["content"]);
        await survivor.WaitForStateAsync(id, "idle");

        // The session goes on through the survivor alone.
        fixture.Model.EnqueueFor(key, ScriptStep.Answer("still here"));
        await survivor.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "still there?" });
        messages = await survivor.WaitForMessagesAsync(id, m => m.Count(x => (string?)x!["metadata"]?["type"] == "response") == 2, TimeSpan.FromSeconds(60));
        Assert.Equal("still here", (string?)messages.Last()!["content"]);
    }
}
