using System.Net;
using System.Text.Json.Nodes;
using Docker.DotNet.Models;
using Raworc.ApiService.Computers;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;
using Raworc.Tests.Webhooks;

namespace Raworc.Tests.EndToEnd;

/// <summary>
/// The API as two replicas (issue 17 item 5; README "Running several API replicas"): each step goes to one replica directly,
/// the next to the other, and the work, the deadlines and the wake-ups still happen exactly once.
/// </summary>
/// <remarks>
/// The test that kills a replica runs last (its name sorts last): the killed replica is not started again, since a restart
/// of one instance of a replicated resource did not always come back in time on a loaded machine.
/// </remarks>
[ComputerLane]
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
    public async Task AnOperatorRevokedOrGivenANewPasswordThroughOneReplicaIsRefusedThroughTheOtherBeforeItsCacheEnds()
    {
        var replicas = await fixture.ReplicasAsync();
        foreach (var change in new[] { "revoke", "password" })
        {
            var (name, proxied) = await fixture.CreateOperatorAsync($"cached-{change}");
            proxied.Dispose();
            var token = await fixture.LoginAsync(name, "operator-pass-1");
            using var a = fixture.CreateReplicaClient(replicas[0], token);
            using var b = fixture.CreateReplicaClient(replicas[1], token);
            // B has the operator in its principal cache (kept 300 s here, the most the setting allows).
            Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/api/v0/auth")).StatusCode);

            var response = change == "revoke"
                ? await a.PostAsync($"/api/v0/operators/{name}/revoke", null)
                : await a.PutAsync($"/api/v0/operators/{name}/password", Http.Json(new { current_password = "operator-pass-1", new_password = "operator-pass-2" }));
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

            Assert.Equal(HttpStatusCode.Unauthorized, (await a.GetAsync("/api/v0/auth")).StatusCode);
            // B hears of it through Redis: refused long before its cache entry ends.
            await Waits.UntilAsync(async () => (await b.GetAsync("/api/v0/auth")).StatusCode == HttpStatusCode.Unauthorized,
                $"replica B refuses the token after the {change}", TimeSpan.FromSeconds(20));
        }
    }

    [Fact]
    public async Task FailedLoginsOfOneNameThroughBothReplicasAreCountedTogetherAndThePastLimitOneIsRefused()
    {
        var replicas = await fixture.ReplicasAsync();
        var (name, proxied) = await fixture.CreateOperatorAsync("guessed");
        proxied.Dispose();
        using var a = fixture.CreateReplicaClient(replicas[0]);
        using var b = fixture.CreateReplicaClient(replicas[1]);
        // Attempt i goes to replica A when i is even, to B when it is odd.
        Task<HttpResponseMessage> LoginAsync(int attempt, string pass) =>
            (attempt % 2 == 0 ? a : b).PostAsync($"/api/v0/operators/{name}/login", Http.Json(new { pass }));

        for (var attempt = 0; attempt < ReplicasAppFixture.LoginFailuresPerName; attempt++)
        {
            await (await LoginAsync(attempt, "wrong-password")).AssertErrorAsync(401, "UNAUTHORIZED");
        }
        // Each replica has seen half of the failures; together they are the limit, so the next is refused on either, and
        // so is the right password until the window ends.
        foreach (var (attempt, pass) in new[] { (ReplicasAppFixture.LoginFailuresPerName, "wrong-password"),
                     (ReplicasAppFixture.LoginFailuresPerName + 1, "wrong-password"), (ReplicasAppFixture.LoginFailuresPerName + 2, "operator-pass-1") })
        {
            var refused = await LoginAsync(attempt, pass);
            var error = await refused.AssertErrorAsync(429, "RATE_LIMITED");
            Assert.Equal("Too many failed logins for this operator or from this address; try again later.", (string?)error["message"]);
            Assert.Equal([ReplicasAppFixture.LoginWindowSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)],
                refused.Headers.GetValues("Retry-After"));
        }
    }

    /// <remarks>Runs first (its name sorts first): its first step needs replicas that have sealed nothing yet.</remarks>
    [Fact]
    public async Task ASecretSealedThroughOneReplicaOpensOnTheOtherAndBothSealWithOneKeyFromTheStart()
    {
        var (a, b, replicas) = await ClientsAsync("sealed");
        using var _a = a;
        using var _b = b;

        // The first secrets either replica seals, at once on both (webhook secrets of an operator with no sessions): one key
        // between them, made at start-up. Two keys made at once left each replica sealing with its own, and two minutes
        // after start (Data Protection's refresh on an unknown key) neither could open the other's.
        var (_, proxied) = await fixture.CreateOperatorAsync("sealer");
        var sealerToken = proxied.DefaultRequestHeaders.Authorization!.Parameter!;
        proxied.Dispose();
        using var sealerA = fixture.CreateReplicaClient(replicas[0], sealerToken);
        using var sealerB = fixture.CreateReplicaClient(replicas[1], sealerToken);
        var registrations = await Task.WhenAll(new[] { sealerA, sealerB }.Select(client =>
            client.PostAsync("/api/v0/webhooks", Http.Json(new { url = "http://127.0.0.1:9/unused", event_types = new[] { "session.state" } }))));
        Assert.All(registrations, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.Equal([1L], await fixture.QueryAsync<long>("SELECT count(*) FROM data_protection_keys"));

        var secret = $"sealed-on-a-{Guid.NewGuid():N}";
        var id = (await a.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey(), SEALED = secret } })).Id();
        await b.WaitForStateAsync(id, "idle");
        await b.PostOkAsync($"/api/v0/sessions/{id}/close");
        await Waits.UntilAsync(async () => (await fixture.QueryAsync<long>("SELECT count(*) FROM work_items WHERE session_id = @id", ("id", id)))[0] == 0,
            "the close is done");

        // With A stopped, B restores the session: it opens the secrets A sealed, and the computer gets them.
        using (ReplicasAppFixture.Freeze(replicas[0]))
        {
            await b.PostOkAsync($"/api/v0/sessions/{id}/restore");
            await Waits.UntilAsync(async () => (await fixture.QueryAsync<string>(
                "SELECT coalesce(outcome, 'running') FROM work_runs WHERE session_id = @id AND kind = 'restore'", ("id", id))).SequenceEqual(["done"]),
                "B's restore is done", TimeSpan.FromSeconds(60));
        }
        var restoredBy = Assert.Single(await fixture.QueryAsync<string>("SELECT worker FROM work_runs WHERE session_id = @id AND kind = 'restore'", ("id", id)));
        Assert.Equal(replicas[1], ReplicasAppFixture.ReplicaOfWorker(replicas, restoredBy));
        await a.WaitForStateAsync(id, "idle");
        Assert.Equal(secret, (await fixture.RunInsideAsync(id, "printf %s \"$SEALED\"")).Stdout);
    }

    [Fact]
    public async Task EachWebhookEventIsDeliveredExactlyOnceByTheTwoReplicasAndSignedWithTheSecretEitherOpens()
    {
        var (a, b, replicas) = await ClientsAsync("hooked");
        using var _a = a;
        using var _b = b;
        await using var receiver = await WebhookReceiver.StartAsync();
        var id = (await a.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() } })).Id();
        await b.WaitForStateAsync(id, "idle");
        var path = $"/hooks/{Guid.NewGuid():N}";
        var registered = await a.PostAsync("/api/v0/webhooks", Http.Json(new { url = receiver.UrlFor(path), event_types = new[] { "session.message" } }));
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var webhook = await registered.ReadObjectAsync();
        var (webhookId, secret) = (Guid.Parse((string)webhook["id"]!), (string)webhook["secret"]!);
        using var hostA = fixture.CreateReplicaHostClient(replicas[0], id);
        using var hostB = fixture.CreateReplicaHostClient(replicas[1], id);

        // Events stored through both replicas, sent by both dispatchers.
        var contents = Enumerable.Range(0, 12).Select(i => $"note {i}").ToList();
        foreach (var (content, i) in contents.Select((c, i) => (c, i)))
        {
            await (i % 2 == 0 ? hostA : hostB).PostOkAsync($"/api/v0/sessions/{id}/messages", new { content, metadata = new { type = "tool_execution" } });
        }
        async Task<bool> AllDeliveredAsync(int count) => (await fixture.QueryAsync<long>(
            "SELECT count(*) FROM webhook_deliveries WHERE webhook_id = @id AND delivered_at IS NOT NULL", ("id", webhookId)))[0] == count;
        await Waits.UntilAsync(() => AllDeliveredAsync(contents.Count), "the events are delivered", TimeSpan.FromSeconds(60));

        // With A stopped, B sends the next one, signed with the secret A sealed.
        using (ReplicasAppFixture.Freeze(replicas[0]))
        {
            contents.Add("while A is stopped");
            await hostB.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = contents[^1], metadata = new { type = "tool_execution" } });
            await Waits.UntilAsync(() => AllDeliveredAsync(contents.Count), "B delivers", TimeSpan.FromSeconds(30));
        }

        var received = receiver.AcceptedAt(path);
        Assert.Equal(contents, received.Select(r => (string)r.Event["data"]!["content"]!).ToList());
        Assert.Equal(contents.Count, received.Select(r => r.EventId).Distinct().Count());
        Assert.All(received, r => Assert.True(WebhookReceiver.Verifies(secret, r.Signature, r.Body), $"signature of {r.Body}"));
        Assert.Equal(Enumerable.Repeat(1, contents.Count), await fixture.QueryAsync<int>(
            "SELECT attempts FROM webhook_deliveries WHERE webhook_id = @id ORDER BY id", ("id", webhookId)));
    }

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

        var (engine, container) = await fixture.RequireContainerAsync(id);
        await engine.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true });
        await a.WaitForStateAsync(id, "closed");

        Assert.Equal(["idle", "closed"], await StatesAsync(id));
        // The computer is gone already: the close queues no work.
        Assert.Equal(["create x1 done"], await RunsAsync(id));
    }

    /// <summary>
    /// Kills (SIGKILL) the replica the Host talks to (on Docker the one the computers' socket leads to; on Swarm one that
    /// holds the Host's connection to the computer port, which both replicas listen on) while a Host's tool runs and while
    /// the same replica holds another session's restore, stopped inside the engine call that creates its computer (held by the fixture's engine
    /// proxy). The turn finishes on the other replica with no message lost; the restore's lease runs out and the other replica
    /// runs it once more, to the end, exactly once; both sessions take further messages.
    /// </summary>
    [Fact]
    public async Task WhenTheReplicaThatServesTheComputersIsKilledMidTurnAndMidWorkItemNothingIsLostStrandedOrRunTwice()
    {
        var (a, b, replicas) = await ClientsAsync("killed");
        using var _a = a;
        using var _b = b;
        var key = ComputersAppFixture.NewModelKey();
        var id = (await a.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = key } })).Id();
        var heldKey = ComputersAppFixture.NewModelKey();
        var held = (await a.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = heldKey } })).Id();
        await b.WaitForStateAsync(id, "idle");
        await b.WaitForStateAsync(held, "idle");
        await a.PostOkAsync($"/api/v0/sessions/{held}/close");
        await Waits.UntilAsync(async () => (await fixture.QueryAsync<long>("SELECT count(*) FROM work_items WHERE session_id = @id", ("id", held)))[0] == 0,
            "the close is done");
        var serving = await fixture.HostReplicaAsync(replicas, id);
        Assert.NotNull(serving);
        var surviving = replicas.Single(r => r != serving);
        using var survivor = fixture.CreateReplicaClient(surviving, await fixture.LoginAsync("admin", RaworcAppFixture.AdminPassword));
        // The owner's clients (an admin's message would not restore a session), one per replica.
        var ownerOnServing = serving == replicas[0] ? a : b;
        var ownerOnSurvivor = serving == replicas[0] ? b : a;

        // The held session's restore, asked for through the replica that will die and claimed by it (the other is stopped
        // meanwhile): it waits inside the engine call that creates the computer, renewing its lease.
        fixture.Model.EnqueueFor(heldKey, ScriptStep.Answer("restored elsewhere"));
        // On Swarm the computer is a service, created by name in the request's body, not its line.
        using var create = fixture.ReplicaEngine.Hold(fixture.OnSwarm ? "/services/create" : $"/containers/create?name={DockerComputerProvider.NameOf(held)}");
        using (ReplicasAppFixture.Freeze(surviving))
        {
            await ownerOnServing.PostOkAsync($"/api/v0/sessions/{held}/messages", new { content = "wake up" });
            await create.Reached.WaitAsync(TimeSpan.FromSeconds(60));
        }
        var restoreItem = Assert.Single(await fixture.QueryAsync<long>(
            "SELECT id FROM work_items WHERE session_id = @id AND kind = 'restore'", ("id", held)));
        var killedWorker = Assert.Single(await fixture.QueryAsync<string>(
            "SELECT worker FROM work_runs WHERE work_item_id = @item AND finished_at IS NULL", ("item", restoreItem)));
        Assert.Equal(serving, ReplicasAppFixture.ReplicaOfWorker(replicas, killedWorker));

        // The tool runs for a few seconds; the replica the Host talks to dies meanwhile, holding the restore.
        var marker = $"/tmp/turn-{Guid.NewGuid():N}";
        fixture.Model.EnqueueFor(key,
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = $"touch {marker}; sleep 4; echo slept" }),
            ScriptStep.Answer(request => request.LastToolResult.Contains("slept", StringComparison.Ordinal) ? "survived" : $"unexpected: {request.LastToolResult}"));
        await survivor.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "sleep a little" });
        await Waits.UntilAsync(async () => (await fixture.RunInsideAsync(id, $"test -e {marker}")).ExitCode == 0, "the tool runs");
        if (fixture.OnSwarm)
        {
            // The replica about to die holds a connection of the Host's to the shared computer port, which dies with it: the
            // Host's next connection to the port reaches the survivor, the one listener left.
            Assert.Contains(serving, await fixture.HostPortReplicasAsync(replicas, id));
        }
        ReplicasAppFixture.Kill(serving);
        // The create the dead replica sent never reaches the engine.
        create.Dispose();

        var messages = await survivor.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(90));
        Assert.Equal(["user", "host:tool_execution", "host:response"],
            messages.Select(m => (string)m!["role"]! == "host" ? $"host:{m["metadata"]!["type"]}" : (string)m["role"]!).ToArray());
        Assert.Equal("survived", (string?)messages.Last()!["content"]);
        await survivor.WaitForStateAsync(id, "idle");

        // The held restore: taken by the survivor once the dead replica's lease ran out, run to the end once, and the message
        // that asked for it answered once.
        messages = await survivor.WaitForMessagesAsync(held, m => m.HasResponse(), TimeSpan.FromSeconds(120));
        Assert.Equal(["user:wake up", "host:restored elsewhere"], messages.Select(m => $"{(string?)m!["role"]}:{(string?)m["content"]}").ToArray());
        await survivor.WaitForStateAsync(held, "idle");
        await Waits.UntilAsync(async () => (await fixture.QueryAsync<long>("SELECT count(*) FROM work_items WHERE session_id = @id", ("id", held)))[0] == 0,
            "the restore's item is done");
        var runs = await fixture.QueryAsync<string>(
            "SELECT worker || ' ' || coalesce(outcome, 'running') FROM work_runs WHERE work_item_id = @item ORDER BY id", ("item", restoreItem));
        Assert.Equal(2, runs.Count);
        Assert.Equal($"{killedWorker} running", runs[0]);
        Assert.Equal(surviving, ReplicasAppFixture.ReplicaOfWorker(replicas, runs[1].Split(' ')[0]));
        Assert.EndsWith(" done", runs[1], StringComparison.Ordinal);
        Assert.Equal(["create x1 done", "close x1 done", "restore x2 running,done"], await RunsAsync(held));
        Assert.Equal(["idle", "closed", "init", "busy", "idle"], await StatesAsync(held));

        // Both sessions go on through the survivor alone.
        fixture.Model.EnqueueFor(key, ScriptStep.Answer("still here"));
        fixture.Model.EnqueueFor(heldKey, ScriptStep.Answer("held still here"));
        await survivor.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "still there?" });
        await ownerOnSurvivor.PostOkAsync($"/api/v0/sessions/{held}/messages", new { content = "still there?" });
        messages = await survivor.WaitForMessagesAsync(id, m => m.Count(x => (string?)x!["metadata"]?["type"] == "response") == 2, TimeSpan.FromSeconds(60));
        Assert.Equal("still here", (string?)messages.Last()!["content"]);
        messages = await survivor.WaitForMessagesAsync(held, m => m.Count(x => (string?)x!["metadata"]?["type"] == "response") == 2, TimeSpan.FromSeconds(60));
        Assert.Equal("held still here", (string?)messages.Last()!["content"]);
    }
}
