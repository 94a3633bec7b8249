using Docker.DotNet.Models;
using Raworc.ApiService.Computers;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Computers;

/// <summary>Restarts the API, so it has a system of its own: nothing else waits on an API that is restarting.</summary>
[Collection(ApiRestartCollection.Name)]
public sealed class ApiRestartTests(ComputersAppFixture fixture)
{
    private static string NewKey() => $"key-{Guid.NewGuid():N}";

    [Fact]
    public async Task AfterTheApiRestartsOrphansAreRemovedAndLiveSessionsStillWork()
    {
        var (_, client) = await fixture.CreateOperatorAsync("survivor");
        using var _ = client;
        var key = NewKey();
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = key } })).Id();
        await client.WaitForStateAsync(id, "idle");
        var orphan = Guid.NewGuid();
        await fixture.Docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Name = DockerComputerProvider.NameOf(orphan),
            Image = ComputersAppFixture.Image,
            Entrypoint = ["sleep", "infinity"],
            Labels = new Dictionary<string, string>
            {
                ["raworc.managed"] = "true",
                ["raworc.session-id"] = orphan.ToString(),
                [DockerComputerProvider.DeploymentLabel] = Assert.Single(await fixture.QueryAsync<string>("SELECT id FROM deployment")),
            },
        });

        // A computer of another Raworc deployment on the same engine: never ours to remove.
        var foreign = Guid.NewGuid();
        await fixture.Docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Name = DockerComputerProvider.NameOf(foreign),
            Image = ComputersAppFixture.Image,
            Entrypoint = ["sleep", "infinity"],
            Labels = new Dictionary<string, string>
            {
                ["raworc.managed"] = "true",
                ["raworc.session-id"] = foreign.ToString(),
                [DockerComputerProvider.DeploymentLabel] = "another-deployment",
            },
        });

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Api, Aspire.Hosting.ApplicationModel.KnownResourceCommands.RestartCommand, cts.Token);
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.Api, cts.Token);

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
