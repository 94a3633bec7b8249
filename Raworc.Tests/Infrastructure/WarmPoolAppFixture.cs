using System.Globalization;

namespace Raworc.Tests.Infrastructure;

/// <summary>
/// The whole system with session computers and a warm pool of <see cref="PoolSize"/> started computers
/// (<c>Computers:WarmPool</c>); otherwise as <see cref="ComputersAppFixture"/>.
/// </summary>
public class WarmPoolAppFixture : ComputersAppFixture
{
    /// <summary>How many started computers the API keeps waiting.</summary>
    public const int PoolSize = 3;

    /// <summary>This system's <c>Computers:WarmPool</c>: <see cref="PoolSize"/> unless a derived fixture says otherwise.</summary>
    protected virtual int Size => PoolSize;

    protected override IReadOnlyDictionary<string, string> ApiEnvironment => new Dictionary<string, string>(base.ApiEnvironment)
    {
        ["Computers__WarmPool"] = Size.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The reserved ids of the pooled computers whose agent already waits on the claim route.</summary>
    public Task<List<Guid>> WaitingComputersAsync() =>
        QueryAsync<Guid>("SELECT id FROM warm_computers WHERE container_id IS NOT NULL AND ready_at IS NOT NULL ORDER BY id");

    /// <summary>Waits until <paramref name="count"/> (default: the pool's size) pooled computers wait for a claim; returns their reserved ids.</summary>
    public async Task<List<Guid>> WaitForPoolAsync(int? count = null, TimeSpan? timeout = null)
    {
        count ??= Size;
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

/// <summary>
/// A warm pool of <see cref="PoolSize"/> computers within a <c>Computers:Capacity</c> of <see cref="Capacity"/>: the pool
/// holds at most the capacity minus the live sessions, so both limits show.
/// </summary>
public sealed class WarmPoolCapacityAppFixture : WarmPoolAppFixture
{
    /// <summary>This system's pool size.</summary>
    public new const int PoolSize = 2;

    /// <summary>Live sessions (computers) the deployment may have.</summary>
    public const int Capacity = 3;

    protected override int Size => PoolSize;

    protected override IReadOnlyDictionary<string, string> ApiEnvironment => new Dictionary<string, string>(base.ApiEnvironment)
    {
        ["Computers__Capacity"] = Capacity.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>The test of the pool within a capacity has a system of its own (the capacity counts every session of it).</summary>
[CollectionDefinition(Name)]
public sealed class WarmPoolCapacityAppCollection : ICollectionFixture<WarmPoolCapacityAppFixture>
{
    public const string Name = "Raworc with a warm pool within a capacity";
}
