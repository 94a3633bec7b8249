using Docker.DotNet.Models;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Computers;

/// <summary>
/// The API's start deadline, on the second system with computers, whose deadline is short (<see cref="ShortDeadlineAppFixture"/>):
/// the test waits it out, whatever runs the computer, so CI runs it in its plain pass only.
/// </summary>
[ComputerLane]
[Collection(ApiRestartCollection.Name)]
public sealed class StartDeadlineTests(ShortDeadlineAppFixture fixture)
{
    /// <summary>Tags, as the image the API starts, one like the real one whose entry point never starts the agent.</summary>
    private async Task UseAnAgentThatNeverStartsAsync()
    {
        var template = await fixture.Docker.Containers.CreateContainerAsync(new CreateContainerParameters { Image = ComputersAppFixture.SourceImage });
        await fixture.Docker.Images.CommitContainerChangesAsync(new CommitContainerChangesParameters
        {
            ContainerID = template.ID,
            RepositoryName = ComputersAppFixture.Image.Split(':')[0],
            Tag = ComputersAppFixture.Image.Split(':')[1],
            Config = new Config { Entrypoint = ["sleep", "infinity"], Cmd = [] },
        });
        await fixture.Docker.Containers.RemoveContainerAsync(template.ID, new ContainerRemoveParameters { Force = true });
    }

    [Fact]
    public async Task AComputerWhoseAgentNeverReportsReadyErrorsAfterTheDeadlineAndIsRemoved()
    {
        var (_, client) = await fixture.CreateOperatorAsync("silent");
        using var _ = client;
        await UseAnAgentThatNeverStartsAsync();
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

    [Fact]
    public async Task ASessionWhoseFirstComputerNeverBootedGetsItsFilesWhenRestored()
    {
        // The first computer's agent never exchanges its boot ticket (here: it never starts; as well: the API unreachable
        // for the agent's 30 s, the exchange's answer lost in an API crash), so the new volume is never seeded. Before, the
        // restore found the volume, took it for seeded, and the session ran on without its instructions, setup script and
        // secrets, every start after.
        var (_, client) = await fixture.CreateOperatorAsync("unseeded");
        using var _ = client;
        await UseAnAgentThatNeverStartsAsync();
        Guid id;
        try
        {
            // On Swarm the nodes start what they hold: the silent image goes to them too (on Docker nothing to do).
            await fixture.PublishImageAsync();
            id = (await client.CreateSessionAsync(new
            {
                secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey(), TEAM_TOKEN = "team-secret-1" },
                instructions = "Answer in French.",
                setup = "echo setup-ran > /session/data/setup.out",
            })).Id();
            await client.WaitForStateAsync(id, "errored", TimeSpan.FromSeconds(ShortDeadlineAppFixture.StartDeadlineSeconds + 60));
            await Waits.UntilAsync(async () => await fixture.Probe.InspectAsync(id) is null, "the container is removed");
        }
        finally
        {
            await fixture.TagImageAsync();
        }

        await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
        await client.WaitForStateAsync(id, "idle");

        var files = await fixture.Probe.ReadVolumeAsync(id);
        Assert.Equal("Answer in French.", files.GetValueOrDefault("code/instructions.md")?.Text);
        Assert.Equal("echo setup-ran > /session/data/setup.out", files.GetValueOrDefault("code/setup.sh")?.Text);
        Assert.Equal("team-secret-1", files.GetValueOrDefault("secrets/TEAM_TOKEN")?.Text);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, files["secrets/TEAM_TOKEN"].Mode);
        Assert.Equal("setup-ran\n", files.GetValueOrDefault("data/setup.out")?.Text);
    }
}
