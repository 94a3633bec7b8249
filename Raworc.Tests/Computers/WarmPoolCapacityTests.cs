using Raworc.ApiService.Computers;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Computers;

/// <summary>
/// Pooled computers count against <c>Computers:Capacity</c> (README "Warm pool", "Capacity"): each round the pool holds
/// min(its size, capacity − live sessions), and creates are refused by the live sessions' count alone. Here the pool's
/// size is 2 and the capacity 3.
/// </summary>
[ComputerLane]
[Collection(WarmPoolCapacityAppCollection.Name)]
public sealed class WarmPoolCapacityTests(WarmPoolCapacityAppFixture fixture)
{
    private const int Capacity = WarmPoolCapacityAppFixture.Capacity;

    private const string CapacityLimit = "The deployment runs its capacity of 3 computers (Computers:Capacity); try again when a session closes.";

    [Fact]
    public async Task ThePoolHoldsOnlyWhatTheLiveSessionsLeaveOfTheCapacity()
    {
        var (_, client) = await fixture.CreateOperatorAsync("capacity");
        using var _ = client;
        // No live session: the pool's own size bounds it, below the capacity.
        Assert.Equal(WarmPoolCapacityAppFixture.PoolSize, (await fixture.WaitForPoolAsync()).Count);

        // Up to the capacity every create takes a waiting computer: the pool refills to 3 − 1 = 2 after the first, keeps
        // 3 − 2 = 1 after the second (the one the third then takes), and holds none at 3 live.
        var ids = new List<Guid>();
        for (var i = 0; i < Capacity; i++)
        {
            var waiting = await fixture.WaitForPoolAsync(1);
            var created = await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() } });
            Assert.Contains(created.Id(), waiting);
            ids.Add(created.Id());
            await client.WaitForStateAsync(created.Id(), "idle");
        }
        var refused = await client.PostAsync("/api/v0/sessions", Http.Json(new { }));
        Assert.Equal(CapacityLimit, (string?)(await refused.AssertErrorAsync(409, "CONFLICT"))["message"]);

        // One session closes: the pool fills the one computer it left, not the pool's size. A pool that ignored the capacity
        // would have refilled to 2 after each claim and would show both here.
        await client.PostOkAsync($"/api/v0/sessions/{ids[0]}/close");
        await Waits.UntilAsync(async () => await fixture.Probe.InspectAsync(ids[0]) is null, "the closed session's container is removed",
            TimeSpan.FromSeconds(60));
        var refilled = Assert.Single(await fixture.WaitForPoolAsync(1));
        Assert.DoesNotContain(refilled, ids);
        Assert.Equal([1L], await fixture.QueryAsync<long>("SELECT count(*) FROM warm_computers"));
        // Two live sessions and one pooled computer: the deployment runs exactly its capacity.
        var deployment = Assert.Single(await fixture.QueryAsync<string>("SELECT id FROM deployment"));
        Assert.Equal(
            [.. ids.Skip(1).Append(refilled).Select(DockerComputerProvider.NameOf).Order(StringComparer.Ordinal)],
            (await fixture.RunningComputersAsync(deployment)).Order(StringComparer.Ordinal));
    }
}
