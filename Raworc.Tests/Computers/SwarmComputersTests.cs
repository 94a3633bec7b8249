using Microsoft.Extensions.DependencyInjection;
using Aspire.Hosting.ApplicationModel;
using System.Security.Cryptography;
using Docker.DotNet.Models;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Computers;

/// <summary>
/// The computer tests that matter most, on the two-node test Swarm (<c>Computers:Provider=swarm</c>): create → idle →
/// message → answer, close → restore on the same node with every byte, remix beside the parent, and a node that leaves.
/// </summary>
[ComputerLane]
[Collection(SwarmAppCollection.Name)]
public sealed class SwarmComputersTests(SwarmAppFixture fixture) : IAsyncLifetime
{
    // Each test here starts one to three computers: room is made first, whatever the collection's earlier tests left (the
    // cluster has room for eight; a clean-clone CI run found both nodes full at this class's third test).
    public Task InitializeAsync() => SwarmCluster.CannotRunReason is null ? fixture.MakeRoomAsync() : Task.CompletedTask;

    public Task DisposeAsync() => Task.CompletedTask;

    [SwarmFact]
    public async Task ASessionRunsAsAOneReplicaServicePinnedToTheNodeOfItsVolumeAndAnswers()
    {
        var (_, client) = await fixture.CreateOperatorAsync("swarm");
        using var _ = client;
        var key = ComputersAppFixture.NewModelKey();
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = key, DEMO_SECRET = "demo-42" }, instructions = "Be brief." })).Id();
        await client.WaitForStateAsync(id, "idle");

        var service = await fixture.ServiceAsync(id);
        Assert.NotNull(service);
        var node = service.Spec.Labels["raworc.node"];
        Assert.Equal(1UL, service.Spec.Mode.Replicated.Replicas);
        Assert.Equal([$"node.id=={node}"], service.Spec.TaskTemplate.Placement.Constraints);
        Assert.Equal(id.ToString(), service.Spec.TaskTemplate.ContainerSpec.Labels["raworc.session-id"]);
        Assert.Equal(500_000_000, service.Spec.TaskTemplate.Resources.Limits.NanoCPUs);
        Assert.Equal(512L * 1024 * 1024, service.Spec.TaskTemplate.Resources.Reservations.MemoryBytes);
        Assert.Equal(["ALL"], service.Spec.TaskTemplate.ContainerSpec.CapabilityDrop);
        Assert.True(service.Spec.TaskTemplate.ContainerSpec.ReadOnly);
        Assert.DoesNotContain(service.Spec.TaskTemplate.ContainerSpec.Env, e => e.StartsWith("RAWORC_HOST_TOKEN=", StringComparison.Ordinal));
        var files = await (await fixture.NodeProbeAsync(node)).ReadVolumeAsync(id);
        Assert.Equal("Be brief.", files["code/instructions.md"].Text);
        Assert.Equal("demo-42", files["secrets/DEMO_SECRET"].Text);
        foreach (var other in (await fixture.Manager.Swarm.ListNodesAsync()).Where(n => n.ID != node))
        {
            Assert.False(await (await fixture.NodeProbeAsync(other.ID)).VolumeExistsAsync(id));
        }

        fixture.Model.EnqueueFor(key, ScriptStep.Answer("hello from the swarm"));
        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "hi" });
        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(60));
        Assert.Equal("hello from the swarm", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
    }

    [SwarmFact]
    public async Task CloseScalesTheServiceToZeroAndRestoreOnTheSameNodeKeepsEveryByte()
    {
        var (_, client) = await fixture.CreateOperatorAsync("swarm-keeper");
        using var _ = client;
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() } })).Id();
        await client.WaitForStateAsync(id, "idle");
        var first = await ContainerOfAsync(client, id);
        var node = (await fixture.ServiceAsync(id))!.Spec.Labels["raworc.node"];
        var probe = await fixture.NodeProbeAsync(node);
        var blob = RandomNumberGenerator.GetBytes(64 * 1024);
        await probe.PutFileAsync(first, "data/blob.bin", blob);

        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        await client.WaitForStateAsync(id, "closed");
        await Waits.UntilAsync(async () => (await fixture.ServiceAsync(id))?.Spec.Mode.Replicated.Replicas == 0, "the service is scaled to 0");
        Assert.True(await probe.VolumeExistsAsync(id));

        await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
        await client.WaitForStateAsync(id, "idle");
        // A new task, so a new container (waiting for one that is not the first is the check).
        await ContainerOfAsync(client, id, not: first);
        Assert.Equal(node, (await fixture.ServiceAsync(id))!.Spec.Labels["raworc.node"]);
        Assert.Equal(blob, (await probe.ReadVolumeAsync(id))["data/blob.bin"].Content);
    }

    [SwarmFact]
    public async Task ARemixIsPinnedBesideItsParentWithTheChosenFolders()
    {
        var (_, client) = await fixture.CreateOperatorAsync("swarm-mixer");
        using var _ = client;
        var parent = (await client.CreateSessionAsync(new
        {
            secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() },
            setup = "echo parent > /session/data/from-setup",
        })).Id();
        await client.WaitForStateAsync(parent, "idle");
        var node = (await fixture.ServiceAsync(parent))!.Spec.Labels["raworc.node"];
        var probe = await fixture.NodeProbeAsync(node);
        await Waits.UntilAsync(async () => (await probe.ReadVolumeAsync(parent)).ContainsKey("data/from-setup"), "the parent's setup ran");

        var child = (await client.PostOkAsync($"/api/v0/sessions/{parent}/remix", new { data = true, code = false, secrets = true })).Id();
        await client.WaitForStateAsync(child, "idle");

        Assert.Equal(node, (await fixture.ServiceAsync(child))!.Spec.Labels["raworc.node"]);
        var files = await probe.ReadVolumeAsync(child);
        Assert.Equal("parent\n", files["data/from-setup"].Text);
        Assert.DoesNotContain(files.Keys, path => path.StartsWith("code/", StringComparison.Ordinal));
    }

    [SwarmFact]
    public async Task ANodeThatLeavesClosesItsSessionsWithAMessageAndRestoreWorksOnceItIsBack()
    {
        var (_, client) = await fixture.CreateOperatorAsync("swarm-leaver");
        using var _ = client;
        // The manager must stay: the session is the worker's.
        var (worker, id) = await SessionOnTheWorkerAsync(client);
        var blob = RandomNumberGenerator.GetBytes(4096);
        await (await fixture.NodeProbeAsync(worker)).PutFileAsync(await ContainerOfAsync(client, id), "data/kept.bin", blob);

        Assert.Equal(0, (await SwarmCluster.RunAsync("stop", "2")).Code);
        try
        {
            await client.WaitForStateAsync(id, "closed", TimeSpan.FromSeconds(90));
            var notice = (await client.GetMessagesAsync(id.ToString())).Last(m => (string?)m!["role"] == "system")!;
            Assert.Equal("node_unavailable", (string?)notice["metadata"]!["type"]);
            Assert.Equal(worker, (string?)notice["metadata"]!["node"]);

            await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
            var refused = await client.WaitForStateAsync(id, "errored");
            Assert.Equal(
                $"The cluster node that holds this session's files ({worker}) is not available: it is down or has left the cluster. "
                + "Its files are kept there; restore the session again once the node is back.",
                (string?)refused["error"]);
        }
        finally
        {
            Assert.Equal(0, (await SwarmCluster.RunAsync("up")).Code);
        }
        await Waits.UntilAsync(async () => (await fixture.Manager.Swarm.InspectNodeAsync(worker)).Status.State == "ready",
            "the worker is ready again", TimeSpan.FromSeconds(60));

        await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
        await client.WaitForStateAsync(id, "idle", TimeSpan.FromSeconds(90));
        Assert.Equal(blob, (await (await fixture.NodeProbeAsync(worker)).ReadVolumeAsync(id))["data/kept.bin"].Content);
    }

    [SwarmFact]
    public async Task APausedNodeKeepsItsSessionsServingAndRefusesOnlyWhatWouldStartAComputerThere()
    {
        // Found reading the provider: a paused node (Docker keeps its tasks running, starts no new one) counted as away, so
        // its live sessions were closed as stranded and their computers' files could not be read.
        var (_, client) = await fixture.CreateOperatorAsync("swarm-paused");
        using var _ = client;
        var key = ComputersAppFixture.NewModelKey();
        var (worker, live) = await SessionOnTheWorkerAsync(client, key);
        var (_, resting) = await SessionOnTheWorkerAsync(client);
        await client.PostOkAsync($"/api/v0/sessions/{resting}/close");
        await client.WaitForStateAsync(resting, "closed");
        await Waits.UntilAsync(async () => (await fixture.ServiceAsync(resting))?.Spec.Mode.Replicated.Replicas == 0, "the closed session's service is scaled to 0");

        await SetAvailabilityAsync(worker, "pause");
        try
        {
            // What would start a computer on the paused node is refused at once, with the reason.
            await client.PostOkAsync($"/api/v0/sessions/{resting}/restore");
            var refused = await client.WaitForStateAsync(resting, "errored");
            Assert.Equal(
                $"The cluster node that holds this session's files ({worker}) is not available: it is paused, and the cluster starts no new computer on a paused node. "
                + "Its files are kept there; restore the session again once the node is back.",
                (string?)refused["error"]);

            // The running one keeps serving: it is not closed, and its Host answers on the paused node.
            fixture.Model.EnqueueFor(key, ScriptStep.Answer("still here"));
            await client.PostOkAsync($"/api/v0/sessions/{live}/messages", new { content = "are you there?" });
            var messages = await client.WaitForMessagesAsync(live, m => m.HasResponse());
            Assert.Equal("still here", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
            Assert.Equal("idle", (string?)(await client.WaitForStateAsync(live, "idle"))["state"]);
            Assert.DoesNotContain(messages, m => (string?)m!["metadata"]?["type"] == "node_unavailable");
            Assert.Equal(worker, (await fixture.ServiceAsync(live))!.Spec.Labels["raworc.node"]);
        }
        finally
        {
            await SetAvailabilityAsync(worker, "active");
        }

        await client.PostOkAsync($"/api/v0/sessions/{resting}/restore");
        await client.WaitForStateAsync(resting, "idle", TimeSpan.FromSeconds(90));
        Assert.Equal(worker, (await fixture.ServiceAsync(resting))!.Spec.Labels["raworc.node"]);
        await DeleteSessionsAsync(client, [live, resting]);
    }

    /// <summary>Deletes the sessions and waits until their services are gone from the cluster.</summary>
    private async Task DeleteSessionsAsync(HttpClient client, IReadOnlyCollection<Guid> sessions)
    {
        foreach (var id in sessions)
        {
            using var deleted = await client.DeleteAsync($"/api/v0/sessions/{id}");
            Assert.Equal(System.Net.HttpStatusCode.NoContent, deleted.StatusCode);
        }
        await fixture.WaitUntilServicesRemovedAsync(sessions);
    }

    /// <summary>Sets a node's availability (<c>active</c>, <c>pause</c> or <c>drain</c>) as <c>docker node update --availability</c> does.</summary>
    private async Task SetAvailabilityAsync(string nodeId, string availability)
    {
        var node = await fixture.Manager.Swarm.InspectNodeAsync(nodeId);
        await fixture.Manager.Swarm.UpdateNodeAsync(nodeId, node.Version.Index, new NodeUpdateParameters
        {
            Name = node.Spec.Name,
            Labels = node.Spec.Labels,
            Role = node.Spec.Role,
            Availability = availability,
        });
        await Waits.UntilAsync(async () => (await fixture.Manager.Swarm.InspectNodeAsync(nodeId)).Spec.Availability == availability,
            $"the node is '{availability}'");
    }

    [SwarmFact]
    public async Task ASessionTheClusterHasNoRoomForErrorsWithTheSchedulersReasonAndTheOthersStayIdle()
    {
        var (_, client) = await fixture.CreateOperatorAsync("swarm-filler");
        using var _ = client;
        // Each computer reserves 0.5 CPU (Computers:Cpus) and 512 MiB; CPU runs out first on the test nodes. The room left is
        // what the nodes' CPUs hold beyond the reservations of the tasks meant to run now (other tests' sessions included).
        var room = 0L;
        foreach (var node in (await fixture.Manager.Swarm.ListNodesAsync()).Where(node => node.Status.State == "ready"))
        {
            var tasks = await fixture.Manager.Tasks.ListAsync(new Docker.DotNet.Models.TasksListParameters
            {
                Filters = new Dictionary<string, IDictionary<string, bool>>
                {
                    ["node"] = new Dictionary<string, bool> { [node.ID] = true },
                    ["desired-state"] = new Dictionary<string, bool> { ["running"] = true },
                },
            });
            var reserved = tasks.Sum(task => task.Spec.Resources?.Reservations?.NanoCPUs ?? 0);
            room += (node.Description.Resources.NanoCPUs - reserved) / 500_000_000;
        }
        // Every task the cluster holds now: the filling sessions' tasks must be gone again before the next test, not only
        // their services (a removed service's tasks keep their reservations until they are removed in turn).
        var before = (await fixture.Manager.Tasks.ListAsync(new Docker.DotNet.Models.TasksListParameters())).Select(task => task.ID).ToHashSet();
        var filled = new List<Guid>();
        try
        {
            for (var i = 0; i < room; i++)
            {
                filled.Add((await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() } })).Id());
                await client.WaitForStateAsync(filled[^1], "idle");
            }

            var refused = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() } })).Id();
            filled.Add(refused);
            var session = await client.WaitForStateAsync(refused, "errored");
            Assert.Equal(
                "No node of the cluster has room for this session's computer now (it reserves 0.5 CPU and 512 MiB; the cluster's "
                + "scheduler says: no suitable node (insufficient resources on 2 nodes)). Close or delete a session, or add a node, "
                + "and create the session again.",
                (string?)session["error"]);
            Assert.Null(await fixture.ServiceAsync(refused));
            foreach (var id in filled[..^1])
            {
                Assert.Equal("idle", (string?)(await client.GetSessionAsync(id.ToString()))["state"]);
            }
        }
        finally
        {
            // The room goes back to the collection's other tests.
            foreach (var id in filled)
            {
                using var deleted = await client.DeleteAsync($"/api/v0/sessions/{id}");
            }
            await Waits.UntilAsync(async () =>
            {
                foreach (var id in filled)
                {
                    if (await fixture.ServiceAsync(id) is not null)
                    {
                        return false;
                    }
                }
                return true;
            }, "the filling sessions' services are gone", TimeSpan.FromSeconds(60));
            await Waits.UntilAsync(async () =>
                (await fixture.Manager.Tasks.ListAsync(new Docker.DotNet.Models.TasksListParameters())).All(task => before.Contains(task.ID)),
                "the filling sessions' tasks are gone and their reservations freed", TimeSpan.FromSeconds(90));
        }
    }

    [SwarmFact]
    public async Task ARestoreWhoseNodeFilledUpMeanwhileErrorsWithTheSchedulersReasonKeepsTheFilesAndWorksOnceThereIsRoom()
    {
        var (_, client) = await fixture.CreateOperatorAsync("swarm-crowded");
        using var _ = client;
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() } })).Id();
        await client.WaitForStateAsync(id, "idle");
        var node = (await fixture.ServiceAsync(id))!.Spec.Labels["raworc.node"];
        var probe = await fixture.NodeProbeAsync(node);
        var blob = RandomNumberGenerator.GetBytes(4096);
        await probe.PutFileAsync(await ContainerOfAsync(client, id), "data/kept.bin", blob);
        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        await client.WaitForStateAsync(id, "closed");
        // The close's work ends once the task no longer runs.
        await Waits.UntilAsync(async () => (await fixture.QueryAsync<long>("SELECT count(*) FROM work_items WHERE session_id = @id", ("id", id)))[0] == 0,
            "the close is done");

        // Meanwhile the node fills up: a service pinned there reserves every CPU its running tasks leave free.
        var reserved = (await RunningTasksAsync(node)).Sum(task => task.Spec.Resources?.Reservations?.NanoCPUs ?? 0);
        var free = (await fixture.Manager.Swarm.InspectNodeAsync(node)).Description.Resources.NanoCPUs - reserved;
        Assert.True(free >= 500_000_000, $"the node has room for the session before it fills ({free} nano-CPUs)");
        var filler = await fixture.Manager.Swarm.CreateServiceAsync(new ServiceCreateParameters
        {
            Service = new ServiceSpec
            {
                Name = $"raworc-test-filler-{Guid.NewGuid():N}",
                Mode = new ServiceMode { Replicated = new ReplicatedService { Replicas = 1 } },
                TaskTemplate = new TaskSpec
                {
                    ContainerSpec = new ContainerSpec { Image = ComputersAppFixture.Image, Command = ["sleep", "3600"] },
                    Placement = new Placement { Constraints = [$"node.id=={node}"] },
                    Resources = new ResourceRequirements { Reservations = new SwarmResources { NanoCPUs = free } },
                    RestartPolicy = new SwarmRestartPolicy { Condition = "none" },
                },
            },
        });
        try
        {
            await Waits.UntilAsync(async () => (await RunningTasksAsync(node)).Any(task => task.ServiceID == filler.ID && task.Status.State == TaskState.Running),
                "the filler runs on the session's node");

            // The restore is refused at once with the scheduler's reason: the session errors, nothing runs for it, its files stay.
            await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
            var refused = await client.WaitForStateAsync(id, "errored", TimeSpan.FromSeconds(90));
            Assert.Equal(
                $"The cluster node that holds this session's files ({node}) has no room for its computer now (it reserves 0.5 CPU and "
                + "512 MiB; the cluster's scheduler says: no suitable node (insufficient resources on 1 node; scheduling constraints "
                + "not satisfied on 1 node)). Its files are kept there; close or delete another session on that node, then restore "
                + "this one again.",
                (string?)refused["error"]);
            Assert.Null(await fixture.ServiceAsync(id));
            Assert.Equal(blob, (await probe.ReadVolumeAsync(id))["data/kept.bin"].Content);
        }
        finally
        {
            await fixture.Manager.Swarm.RemoveServiceAsync(filler.ID);
        }
        await Waits.UntilAsync(async () => (await RunningTasksAsync(node)).All(task => task.ServiceID != filler.ID),
            "the filler's task is gone and its reservation freed", TimeSpan.FromSeconds(60));

        // With room again, a restore finds the files on the same node.
        await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
        await client.WaitForStateAsync(id, "idle", TimeSpan.FromSeconds(90));
        Assert.Equal(node, (await fixture.ServiceAsync(id))!.Spec.Labels["raworc.node"]);
        Assert.Equal(blob, (await probe.ReadVolumeAsync(id))["data/kept.bin"].Content);
        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
    }

    /// <summary>The tasks the manager means to run on <paramref name="node"/> now (desired state running), whatever their state.</summary>
    private async Task<IList<TaskResponse>> RunningTasksAsync(string node) => await fixture.Manager.Tasks.ListAsync(new TasksListParameters
    {
        Filters = new Dictionary<string, IDictionary<string, bool>>
        {
            ["node"] = new Dictionary<string, bool> { [node] = true },
            ["desired-state"] = new Dictionary<string, bool> { ["running"] = true },
        },
    });

    [SwarmFact]
    public async Task TheDashboardShowsEachComputerByItsSessionOnWhicheverNodeRunsItWithItsConsole()
    {
        // Found reading the dashboard on a Swarm: it watched the manager's engine alone, so a computer on another node
        // never showed, and one on the manager showed under its task container's name, a new one at each restore.
        var (_, client) = await fixture.CreateOperatorAsync("swarm-shown");
        using var _ = client;
        // The worker's computers are seen by its own engine only.
        var (worker, id) = await SessionOnTheWorkerAsync(client);
        var name = $"raworc-session-{id:D}";
        var (node, first) = await fixture.ComputerAsync(id);
        Assert.Equal(worker, node);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var notifications = fixture.App.ResourceNotifications;

        var shown = await notifications.WaitForResourceAsync(name,
            e => e.Snapshot.State?.Text == KnownResourceStates.Running && !e.Snapshot.IsHidden, cts.Token);
        var properties = shown.Snapshot.Properties.ToDictionary(p => p.Name, p => p.Value);
        Assert.Equal(first, properties["container.id"]);
        Assert.Equal(worker, properties["swarm.node.id"]);
        Assert.Equal(id.ToString("D"), properties["raworc.session-id"]);
        Assert.StartsWith($"{name}.1.", (string?)properties["container.name"]);
        var relationship = Assert.Single(shown.Snapshot.Relationships);
        Assert.Equal((ResourceNames.Api, "Parent"), (relationship.ResourceName, relationship.Type));
        var logs = fixture.App.Services.GetRequiredService<ResourceLoggerService>();
        await foreach (var batch in logs.WatchAsync(name).WithCancellation(cts.Token))
        {
            if (batch.Any(line => line.Content.Contains("Loaded the newest 0 messages; ready", StringComparison.Ordinal)))
            {
                break;
            }
        }

        // Closed, then restored: a new task and container on the same node, under the same name.
        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        await client.WaitForStateAsync(id, "closed");
        await notifications.WaitForResourceAsync(name, e => e.Snapshot.State?.Text == KnownResourceStates.Exited || e.Snapshot.State?.Text == "Removed", cts.Token);
        await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
        await client.WaitForStateAsync(id, "idle");
        var (_, second) = await fixture.ComputerAsync(id);
        Assert.NotEqual(first, second);
        await notifications.WaitForResourceAsync(name, e => e.Snapshot.State?.Text == KnownResourceStates.Running && !e.Snapshot.IsHidden
            && e.Snapshot.Properties.Any(p => p.Name == "container.id" && (string?)p.Value == second), cts.Token);

        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v0/sessions/{id}")).StatusCode);
        var removed = await notifications.WaitForResourceAsync(name, e => e.Snapshot.IsHidden, cts.Token);
        Assert.Equal("Removed", removed.Snapshot.State?.Text);
    }

    /// <summary>
    /// An idle session whose computer runs on the worker node (the node that is not the manager): the scheduler spreads new
    /// sessions over the nodes, so within four creates one lands there.
    /// </summary>
    /// <param name="client">The operator's client.</param>
    /// <param name="modelKey">The stand-in model's key every candidate gets, so a test can script its answers; a new one each
    /// when null.</param>
    private async Task<(string Worker, Guid Id)> SessionOnTheWorkerAsync(HttpClient client, string? modelKey = null)
    {
        var worker = (await fixture.Manager.Swarm.ListNodesAsync()).Single(node => node.ManagerStatus is null).ID;
        // The candidates placed on the manager are deleted once one lands on the worker: the test cluster holds 8 computers.
        var elsewhere = new List<Guid>();
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var candidate = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = modelKey ?? ComputersAppFixture.NewModelKey() } })).Id();
            await client.WaitForStateAsync(candidate, "idle");
            if ((await fixture.ServiceAsync(candidate))!.Spec.Labels["raworc.node"] == worker)
            {
                await DeleteSessionsAsync(client, elsewhere);
                return (worker, candidate);
            }
            elsewhere.Add(candidate);
        }
        throw new Xunit.Sdk.XunitException($"None of four sessions was placed on the worker node {worker}.");
    }

    /// <summary>
    /// The container the session shows, once it shows one other than <paramref name="not"/>: Swarm starts a task's container
    /// itself, so its agent can report ready before the provider has seen that container and recorded it (README
    /// "Providers: Docker and Swarm"); the id follows within the provider's task poll.
    /// </summary>
    private static async Task<string> ContainerOfAsync(HttpClient client, Guid id, string? not = null)
    {
        string? container = null;
        await Waits.UntilAsync(async () =>
            (container = (string?)(await client.GetSessionAsync(id.ToString()))["container_id"]) is { } shown && shown != not,
            "the session shows its computer's container");
        return container!;
    }
}
