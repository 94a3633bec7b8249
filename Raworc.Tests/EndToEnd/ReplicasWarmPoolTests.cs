using Docker.DotNet.Models;
using Raworc.ApiService.Computers;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.EndToEnd;

/// <summary>
/// The warm pool with the API as two replicas (README "Warm pool" and "Running several API replicas"): creates through both
/// replicas at once never take one pooled computer twice, and the pool's size holds for the deployment, not per replica.
/// </summary>
[ComputerLane]
[Collection(ReplicasWarmPoolAppCollection.Name)]
public sealed class ReplicasWarmPoolTests(ReplicasWarmPoolAppFixture fixture)
{
    /// <summary>
    /// Sessions created at once: 20 on the Docker provider; 4 on the Swarm test cluster, which holds eight computers (2 nodes
    /// of 2 CPUs, 0.5 CPU each), so that they and the refilled pool (<see cref="ReplicasWarmPoolAppFixture.PoolSize"/>, 3) fit
    /// with one to spare.
    /// </summary>
    private static int Creates => TestProvider.IsSwarm ? 4 : 20;

    [Fact]
    public async Task ConcurrentCreatesOverBothReplicasTakeEachPooledComputerOnceAndThePoolKeepsItsSizePerDeployment()
    {
        const int size = ReplicasWarmPoolAppFixture.PoolSize;
        var replicas = await fixture.ReplicasAsync();
        var (name, proxied) = await fixture.CreateOperatorAsync("warm-replicas");
        proxied.Dispose();
        var token = await fixture.LoginAsync(name, "operator-pass-1");
        using var a = fixture.CreateReplicaClient(replicas[0], token);
        using var b = fixture.CreateReplicaClient(replicas[1], token);
        var deployment = Assert.Single(await fixture.QueryAsync<string>("SELECT id FROM deployment"));
        await Waits.UntilAsync(async () => (await fixture.QueryAsync<long>(
                "SELECT count(*) FROM warm_computers WHERE container_id IS NOT NULL AND ready_at IS NOT NULL"))[0] == size,
            $"{size} warm computers wait for a claim", TimeSpan.FromSeconds(180));

        // Every pooled computer seen while the creates run, and the most at any one time (the pool is full as they begin).
        var seen = (await fixture.QueryAsync<Guid>("SELECT id FROM warm_computers")).ToHashSet();
        Assert.Equal(size, seen.Count);
        var most = seen.Count;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                var rows = await fixture.QueryAsync<Guid>("SELECT id FROM warm_computers");
                most = Math.Max(most, rows.Count);
                seen.UnionWith(rows);
                await Task.Delay(50);
            }
        });

        // Half through each replica, all at once.
        var keys = Enumerable.Range(0, Creates).Select(_ => ComputersAppFixture.NewModelKey()).ToList();
        var created = await Task.WhenAll(keys.Select((key, i) => (i % 2 == 0 ? a : b).CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = key } })));
        var ids = created.Select(s => s.Id()).ToList();
        Assert.Equal(Creates, ids.Distinct().Count());
        var sessions = await Task.WhenAll(ids.Select((id, i) => (i % 2 == 0 ? b : a).WaitForStateAsync(id, "idle", TimeSpan.FromSeconds(240))));

        // Each session runs in a container of its own, named and labelled for it; the pooled ones among them are computers
        // the pool had started, each taken by exactly one session.
        var containers = new List<ContainerInspectResponse>();
        foreach (var id in ids)
        {
            containers.Add(await fixture.InspectContainerAsync(id));
        }
        Assert.Equal(Creates, containers.Select(c => c.ID).Distinct().Count());
        Assert.Equal(ids.Select(id => id.ToString()), containers.Select(c => c.Config.Labels[DockerComputerProvider.SessionLabel]));
        Assert.Equal(sessions.Select(s => (string?)s["container_id"]), containers.Select(c => c.ID));
        var claimed = ids.Where((_, i) => containers[i].Config.Labels.ContainsKey(DockerComputerProvider.PooledLabel)).ToList();
        Assert.InRange(claimed.Count, size, Creates);
        Assert.Subset(seen, claimed.ToHashSet());

        // Each answers its own session's script: the handover reached the right agent.
        for (var i = 0; i < Creates; i++)
        {
            fixture.Model.EnqueueFor(keys[i], ScriptStep.Answer($"answer {i}"));
        }
        await Task.WhenAll(ids.Select((id, i) => (i % 2 == 0 ? b : a).PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "hello" })));
        for (var i = 0; i < Creates; i++)
        {
            var messages = await a.WaitForMessagesAsync(ids[i], m => m.HasResponse(), TimeSpan.FromSeconds(120));
            Assert.Equal($"answer {i}", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
        }

        // The pool refills to its size for the deployment (not per replica): the sessions' computers and 3 pooled ones.
        await Waits.UntilAsync(async () => (await fixture.QueryAsync<long>(
                "SELECT count(*) FROM warm_computers WHERE container_id IS NOT NULL AND ready_at IS NOT NULL"))[0] == size,
            $"the pool is back to {size} waiting computers", TimeSpan.FromSeconds(180));
        await sampling.CancelAsync();
        await sampler;
        Assert.Equal(size, most);
        await Waits.UntilAsync(async () => (await fixture.RunningComputersAsync(deployment, all: true)).Count == Creates + size,
            $"the deployment runs {Creates} session computers and {size} pooled ones, no more", TimeSpan.FromSeconds(60));

        foreach (var id in ids)
        {
            await a.PostOkAsync($"/api/v0/sessions/{id}/close");
        }
    }
}
