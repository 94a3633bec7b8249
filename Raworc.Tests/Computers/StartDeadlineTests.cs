using Docker.DotNet.Models;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Computers;

/// <summary>
/// The API's start deadline, on the second system with computers, whose deadline is short (<see cref="ShortDeadlineAppFixture"/>):
/// the test waits it out, whatever runs the computer, so CI runs it in its plain pass only.
/// </summary>
[Collection(ApiRestartCollection.Name)]
public sealed class StartDeadlineTests(ShortDeadlineAppFixture fixture)
{
    [Fact]
    public async Task AComputerWhoseAgentNeverReportsReadyErrorsAfterTheDeadlineAndIsRemoved()
    {
        var (_, client) = await fixture.CreateOperatorAsync("silent");
        using var _ = client;
        // An image like the real one whose entry point never starts the agent.
        var template = await fixture.Docker.Containers.CreateContainerAsync(new CreateContainerParameters { Image = ComputersAppFixture.SourceImage });
        await fixture.Docker.Images.CommitContainerChangesAsync(new CommitContainerChangesParameters
        {
            ContainerID = template.ID,
            RepositoryName = ComputersAppFixture.Image.Split(':')[0],
            Tag = ComputersAppFixture.Image.Split(':')[1],
            Config = new Config { Entrypoint = ["sleep", "infinity"], Cmd = [] },
        });
        await fixture.Docker.Containers.RemoveContainerAsync(template.ID, new ContainerRemoveParameters { Force = true });
        try
        {
            await fixture.PublishImageAsync();
            var id = (await client.CreateSessionAsync()).Id();
            await Waits.UntilAsync(async () => (await fixture.Probe.InspectAsync(id))?.State.Running == true, "the computer runs");
            Assert.Equal("init", (string?)(await client.GetSessionAsync(id.ToString()))["state"]);

            var errored = await client.WaitForStateAsync(id, "errored", TimeSpan.FromSeconds(ShortDeadlineAppFixture.StartDeadlineSeconds + 20));
            Assert.Equal($"The Host agent did not report ready within {ShortDeadlineAppFixture.StartDeadlineSeconds} s.", (string?)errored["error"]);
            await Waits.UntilAsync(async () => await fixture.Probe.InspectAsync(id) is null, "the container is removed");
            Assert.True(await fixture.Probe.VolumeExistsAsync(id));
        }
        finally
        {
            await fixture.TagImageAsync();
        }
    }
}
