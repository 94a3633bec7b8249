using Microsoft.Extensions.Configuration;
using Raworc.AppHost;

namespace Raworc.Tests.Platform;

/// <summary>The AppHost's own switches as <see cref="AppHostOptions.From"/> reads them (no system started).</summary>
public sealed class AppHostOptionsTests
{
    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    private static readonly (string, string)[] LaunchSettings =
    [
        ("ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL", "http://localhost:19000"),
        ("ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL", "http://localhost:20000"),
    ];

    [Fact]
    public void TheApiPortIsTheContractsUnlessSetAndAnyFreePortOtherwise()
    {
        Assert.Equal(9000, AppHostOptions.From(Configuration(LaunchSettings)).ApiPort);
        Assert.Equal(19001, AppHostOptions.From(Configuration([.. LaunchSettings, ("Raworc:ApiPort", "19001")])).ApiPort);
    }

    [Theory]
    [InlineData("19000", "Raworc__ApiPort 19000 is the port of the AppHost's dashboard (ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL = http://localhost:19000/); choose another port.")]
    [InlineData("20000", "Raworc__ApiPort 20000 is the port of the AppHost's dashboard (ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL = http://localhost:20000/); choose another port.")]
    [InlineData("0", "Raworc__ApiPort must be a port between 1 and 65535, not 0.")]
    [InlineData("70000", "Raworc__ApiPort must be a port between 1 and 65535, not 70000.")]
    public void AnApiPortTheDashboardHoldsOrThatIsNoPortStopsTheAppHostWithTheReason(string port, string reason)
    {
        var error = Assert.Throws<InvalidOperationException>(() => AppHostOptions.From(Configuration([.. LaunchSettings, ("Raworc:ApiPort", port)])));

        Assert.Equal(reason, error.Message);
    }
}
