using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Computers;

/// <summary>The warm pool with <c>Computers:Provider=swarm</c>: pooled computers are services on the test cluster.</summary>
[ComputerLane]
[Collection(SwarmWarmPoolAppCollection.Name)]
public sealed class SwarmWarmPoolTests(SwarmWarmPoolAppFixture fixture)
{
    [SwarmFact]
    public async Task ANewSessionTakesAWarmComputerOnTheClusterWithItsFilesAndTheSessionsContainer()
    {
        var waiting = await fixture.WaitForPoolAsync();
        var (_, client) = await fixture.CreateOperatorAsync("swarm-warm");
        using var _ = client;
        var key = ComputersAppFixture.NewModelKey();

        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = key }, instructions = "Be warm." })).Id();
        await client.WaitForStateAsync(id, "idle");

        Assert.Contains(id, waiting);
        var service = await fixture.ServiceAsync(id);
        Assert.NotNull(service);
        Assert.Equal("true", service.Spec.Labels["raworc.pooled"]);
        var (node, container) = await fixture.ComputerAsync(id);
        Assert.Equal(node, service.Spec.Labels["raworc.node"]);
        Assert.Equal(container, (string?)(await client.GetSessionAsync(id.ToString()))["container_id"]);
        fixture.Model.EnqueueFor(key, ScriptStep.Answer("warm hello"));
        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "hi" });
        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(60));
        Assert.Equal("warm hello", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
        Assert.Equal("Be warm.", (await (await fixture.NodeProbeAsync(node)).ReadVolumeAsync(id))["code/instructions.md"].Text);
        // The pool refills with other computers.
        Assert.DoesNotContain(id, await fixture.WaitForPoolAsync());
    }
}
