namespace Raworc.Tests.Infrastructure;

/// <summary>
/// The API-only system with small limits: 3 live sessions per owner, a capacity of 5 computers for the deployment, and a
/// Host heartbeat of 3 s (a busy session whose Host is silent that long goes idle).
/// </summary>
public sealed class QuotaAppFixture : RaworcAppFixture
{
    /// <summary>Live sessions one owner may have.</summary>
    public const int MaxPerOperator = 3;

    /// <summary>Live sessions (computers) the deployment may have.</summary>
    public const int Capacity = 5;

    /// <summary>Seconds a busy session's Host may stay silent.</summary>
    public const int BusyHeartbeatSeconds = 3;

    protected override IReadOnlyDictionary<string, string> ApiEnvironment => new Dictionary<string, string>
    {
        ["Sessions__BusyHeartbeatSeconds"] = BusyHeartbeatSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Sessions__MaxPerOperator"] = MaxPerOperator.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Computers__Capacity"] = Capacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>The tests of the quotas share one system with small limits.</summary>
[CollectionDefinition(Name)]
public sealed class QuotaAppCollection : ICollectionFixture<QuotaAppFixture>
{
    public const string Name = "Raworc app with small limits";
}
