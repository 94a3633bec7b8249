using Docker.DotNet.Models;
using Raworc.ApiService.Computers;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Computers;

/// <summary>Restarts the API, so it has a system of its own: nothing else waits on an API that is restarting.</summary>
[ComputerLane]
[Collection(ApiRestartCollection.Name)]
public sealed class ApiRestartTests(ShortDeadlineAppFixture fixture)
{
    /// <summary>A container labelled as a session computer of <paramref name="deployment"/> for a session no database knows.</summary>
    private async Task<Guid> CreateStrayComputerAsync(string deployment)
    {
        var session = Guid.NewGuid();
        await fixture.Docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Name = DockerComputerProvider.NameOf(session),
            Image = ComputersAppFixture.Image,
            Entrypoint = ["sleep", "infinity"],
            Labels = new Dictionary<string, string>
            {
                [DockerComputerProvider.ManagedLabel] = "true",
                [DockerComputerProvider.SessionLabel] = session.ToString(),
                [DockerComputerProvider.DeploymentLabel] = deployment,
            },
        });
        return session;
    }

    [Fact]
    [OnlyProvider("docker", "the orphan and the foreign computer are containers made by hand on the main engine; on Swarm a stray computer is a service, which this test does not make")]
    public async Task AfterTheApiRestartsOrphansAreRemovedAndLiveSessionsStillWork()
    {
        var (_, client) = await fixture.CreateOperatorAsync("survivor");
        using var _ = client;
        var key = ComputersAppFixture.NewModelKey();
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = key } })).Id();
        await client.WaitForStateAsync(id, "idle");
        var orphan = await CreateStrayComputerAsync(Assert.Single(await fixture.QueryAsync<string>("SELECT id FROM deployment")));
        // A computer of another Raworc deployment on the same engine: never ours to remove.
        var foreign = await CreateStrayComputerAsync("another-deployment");

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Api, Aspire.Hosting.ApplicationModel.KnownResourceCommands.RestartCommand, cts.Token);
        // Waits through an unavailable state: the command may return while the snapshot still shows the stopped process, and
        // the default behaviour stops at that at once ("failed to start", 7 s into the test, in a loaded CI).
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.Api, Aspire.Hosting.ApplicationModel.WaitBehavior.WaitOnResourceUnavailable, cts.Token);

        await Waits.UntilAsync(async () => await fixture.Probe.InspectAsync(orphan) is null, "the orphan is removed");
        Assert.NotNull(await fixture.Probe.InspectAsync(foreign));
        await fixture.Docker.Containers.RemoveContainerAsync(DockerComputerProvider.NameOf(foreign), new ContainerRemoveParameters { Force = true });
        using var again = fixture.CreateApiClient(await fixture.LoginAsync("admin", RaworcAppFixture.AdminPassword));
        fixture.Model.EnqueueFor(key, ScriptStep.Answer("still here"));
        await again.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "after the restart?" });
        var messages = await again.WaitForMessagesAsync(id, m => m.HasResponse());
        Assert.Equal("still here", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
    }
}
