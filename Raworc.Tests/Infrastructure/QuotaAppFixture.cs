namespace Raworc.Tests.Infrastructure;

/// <summary>
/// The API-only system with small quotas: 3 live sessions per owner and a capacity of 5 computers for the deployment.
/// </summary>
public sealed class QuotaAppFixture : RaworcAppFixture
{
    /// <summary>Live sessions one owner may have.</summary>
    public const int MaxPerOperator = 3;

    /// <summary>Live sessions (computers) the deployment may have.</summary>
    public const int Capacity = 5;

    protected override IReadOnlyDictionary<string, string> ApiEnvironment => new Dictionary<string, string>
    {
        ["Sessions__MaxPerOperator"] = MaxPerOperator.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Computers__Capacity"] = Capacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>The tests of the quotas share one system with small limits.</summary>
[CollectionDefinition(Name)]
public sealed class QuotaAppCollection : ICollectionFixture<QuotaAppFixture>
{
    public const string Name = "Raworc app with small quotas";
}
