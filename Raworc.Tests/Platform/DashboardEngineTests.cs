using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Platform;

/// <summary>The dashboard's list of session computers follows the engine the API was given (README "Session computers in the dashboard").</summary>
[Collection(RaworcAppCollection.Name)]
public sealed class DashboardEngineTests(RaworcAppFixture fixture)
{
    [Fact]
    public async Task TheDashboardWatchesTheComputersOnTheEngineTheApiIsPointedAt()
    {
        var deployment = Assert.Single(await fixture.QueryAsync<string>("SELECT id FROM deployment"));

        // Docker.DotNet sends the label filter as URL-encoded JSON: raworc.deployment=<id>.
        await Waits.UntilAsync(() => Task.FromResult(fixture.Engine.Received("/events?") && fixture.Engine.Received($"raworc.deployment%3D{deployment}")),
            $"the dashboard's watcher subscribes, through {fixture.Engine.Endpoint}, to the events of deployment {deployment}", TimeSpan.FromSeconds(60));
        await Waits.UntilAsync(() => Task.FromResult(fixture.Engine.Received("/containers/json")),
            "it lists the deployment's containers there too", TimeSpan.FromSeconds(60));
    }
}
