using System.Net;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Raworc.ApiService.Computers;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.EndToEnd;

/// <summary>Session computers in the Aspire dashboard (issue 15, item 6; README "Session computers in the dashboard").</summary>
[ComputerLane]
[Collection(ComputersAppCollection.Name)]
public sealed class DashboardComputersTests(ComputersAppFixture fixture) : IAsyncLifetime
{
    /// <summary>On Swarm, deletes the sessions earlier tests left (<see cref="ComputersAppFixture.MakeRoomAsync"/>).</summary>
    public Task InitializeAsync() => fixture.MakeRoomAsync();

    /// <inheritdoc />
    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task ASessionsComputerIsAChildResourceOfTheApiWithItsStateImageAndOutputUntilTheSessionIsDeleted()
    {
        using var admin = await fixture.AdminClientAsync();
        var id = (await admin.CreateSessionAsync()).Id();
        await admin.WaitForStateAsync(id, "idle");
        var name = DockerComputerProvider.NameOf(id);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));

        var shown = await fixture.App.ResourceNotifications.WaitForResourceAsync(name,
            e => e.Snapshot.State?.Text == KnownResourceStates.Running && !e.Snapshot.IsHidden, cts.Token);
        var relationship = Assert.Single(shown.Snapshot.Relationships);
        Assert.Equal((ResourceNames.Api, "Parent"), (relationship.ResourceName, relationship.Type));
        var properties = shown.Snapshot.Properties.ToDictionary(p => p.Name, p => p.Value);
        Assert.Equal(ComputersAppFixture.Image, properties["container.image"]);
        Assert.Equal(id.ToString("D"), properties["raworc.session-id"]);
        Assert.Equal(TestRuntime.Name, properties["container.runtime"]);
        Assert.NotNull(shown.Snapshot.StartTimeStamp);

        // Watching the resource's logs follows the container's console: the Host agent's own log.
        var logs = fixture.App.Services.GetRequiredService<ResourceLoggerService>();
        await foreach (var batch in logs.WatchAsync(name).WithCancellation(cts.Token))
        {
            if (batch.Any(line => line.Content.Contains("Loaded the newest 0 messages; ready", StringComparison.Ordinal)))
            {
                break;
            }
        }

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v0/sessions/{id}")).StatusCode);
        var removed = await fixture.App.ResourceNotifications.WaitForResourceAsync(name, e => e.Snapshot.IsHidden, cts.Token);
        Assert.Equal("Removed", removed.Snapshot.State?.Text);
    }
}
