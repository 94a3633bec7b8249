using System.Security.Cryptography;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Computers;

/// <summary>
/// The computer tests that matter most, on the two-node test Swarm (<c>Computers:Provider=swarm</c>): create → idle →
/// message → answer, close → restore on the same node with every byte, remix beside the parent, and a node that leaves.
/// </summary>
[Collection(SwarmAppCollection.Name)]
public sealed class SwarmComputersTests(SwarmAppFixture fixture)
{
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
        var first = (string)(await client.WaitForStateAsync(id, "idle"))["container_id"]!;
        var node = (await fixture.ServiceAsync(id))!.Spec.Labels["raworc.node"];
        var probe = await fixture.NodeProbeAsync(node);
        var blob = RandomNumberGenerator.GetBytes(64 * 1024);
        await probe.PutFileAsync(first, "data/blob.bin", blob);

        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        await client.WaitForStateAsync(id, "closed");
        await Waits.UntilAsync(async () => (await fixture.ServiceAsync(id))?.Spec.Mode.Replicated.Replicas == 0, "the service is scaled to 0");
        Assert.True(await probe.VolumeExistsAsync(id));

        await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
        var restored = await client.WaitForStateAsync(id, "idle");
        Assert.NotEqual(first, (string)restored["container_id"]!);
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
}
