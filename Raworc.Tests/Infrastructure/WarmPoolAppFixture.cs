using System.Globalization;

namespace Raworc.Tests.Infrastructure;

/// <summary>
/// The whole system with session computers and a warm pool of <see cref="PoolSize"/> started computers
/// (<c>Computers:WarmPool</c>); otherwise as <see cref="ComputersAppFixture"/>.
/// </summary>
public sealed class WarmPoolAppFixture : ComputersAppFixture
{
    /// <summary>How many started computers the API keeps waiting.</summary>
    public const int PoolSize = 3;

    protected override IReadOnlyDictionary<string, string> ApiEnvironment => new Dictionary<string, string>(base.ApiEnvironment)
    {
        ["Computers__WarmPool"] = PoolSize.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The reserved ids of the pooled computers whose agent already waits on the claim route.</summary>
    public Task<List<Guid>> WaitingComputersAsync() =>
        QueryAsync<Guid>("SELECT id FROM warm_computers WHERE container_id IS NOT NULL AND ready_at IS NOT NULL ORDER BY id");

    /// <summary>Waits until <paramref name="count"/> pooled computers wait for a claim; returns their reserved ids.</summary>
    public async Task<List<Guid>> WaitForPoolAsync(int count = PoolSize, TimeSpan? timeout = null)
    {
        var ready = new List<Guid>();
        await Waits.UntilAsync(async () => (ready = await WaitingComputersAsync()).Count >= count,
            $"{count} warm computers wait for a claim", timeout ?? TimeSpan.FromSeconds(120));
        return ready;
    }
}

/// <summary>Tests of the warm pool share one started system with a pool.</summary>
[CollectionDefinition(Name)]
public sealed class WarmPoolAppCollection : ICollectionFixture<WarmPoolAppFixture>
{
    public const string Name = "Raworc with a warm pool";
}
