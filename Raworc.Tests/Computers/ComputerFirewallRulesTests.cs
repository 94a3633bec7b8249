using System.ComponentModel.DataAnnotations;
using System.Net;
using Raworc.ApiService.Computers;

namespace Raworc.Tests.Computers;

/// <summary>
/// The text of the host firewall's chain and the settings it is made from (no engine involved). Whether a computer can
/// really cross it is ComputerBoundaryTests' work, from inside one.
/// </summary>
public sealed class ComputerFirewallRulesTests
{
    [Fact]
    public void TheChainLetsDnsToTheResolversAndTheAllowedNetworksThroughThenDropsEveryPrivateRangeAndTheHostsOwnNetworks()
    {
        var rules = ComputerNetwork.ChainRules("raworc0", [IPAddress.Parse("10.255.255.53")], ["10.1.2.0/24"],
            [.. new[] { "192.0.2.0/24", "172.17.0.0/16", "203.0.113.0/25", "192.0.2.0/24" }.Select(IPNetwork.Parse)], 2048, 20);

        Assert.Equal(
            """
            *filter
            :RAWORC-raworc0 - [0:0]
            -A RAWORC-raworc0 -m conntrack --ctstate NEW -m connlimit --connlimit-above 2048 --connlimit-mask 32 --connlimit-saddr -j REJECT --reject-with icmp-admin-prohibited
            -A RAWORC-raworc0 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 20/sec --hashlimit-burst 2048 --hashlimit-mode srcip --hashlimit-name raworc0 -j REJECT --reject-with icmp-admin-prohibited
            -A RAWORC-raworc0 -d 10.255.255.53/32 -p udp -m udp --dport 53 -j RETURN
            -A RAWORC-raworc0 -d 10.255.255.53/32 -p tcp -m tcp --dport 53 -j RETURN
            -A RAWORC-raworc0 -d 10.1.2.0/24 -j RETURN
            -A RAWORC-raworc0 -d 169.254.0.0/16 -j DROP
            -A RAWORC-raworc0 -d 10.0.0.0/8 -j DROP
            -A RAWORC-raworc0 -d 172.16.0.0/12 -j DROP
            -A RAWORC-raworc0 -d 192.168.0.0/16 -j DROP
            -A RAWORC-raworc0 -d 100.64.0.0/10 -j DROP
            -A RAWORC-raworc0 -d 0.0.0.0/8 -j DROP
            -A RAWORC-raworc0 -d 192.0.0.0/24 -j DROP
            -A RAWORC-raworc0 -d 198.18.0.0/15 -j DROP
            -A RAWORC-raworc0 -d 240.0.0.0/4 -j DROP
            -A RAWORC-raworc0 -d 192.0.2.0/24 -j DROP
            -A RAWORC-raworc0 -d 203.0.113.0/25 -j DROP
            COMMIT

            """.ReplaceLineEndings("\n"),
            rules);
    }

    [Fact]
    public void TheHostsRoutesAreEveryNetworkButTheDefaultRoute()
    {
        // This machine's table: the default route by the LAN's gateway, the Swarm test cluster's bridge, docker0, the
        // computers' bridge, the LAN itself; and a network reached through a gateway of the LAN (a VPN).
        string[] table =
        [
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
            "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
            "raworc-s-br\t0007D50A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
            "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
            "raworc0\t000013AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
            "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
            "eth0\t00006CC6\t050200C0\t0003\t0\t0\t0\t0000FEFF\t0\t0\t0",
            "broken line",
        ];

        Assert.Equal(["10.213.7.0/24", "172.17.0.0/16", "172.19.0.0/16", "192.0.2.0/24", "198.108.0.0/15"], ComputerNetwork.HostRoutes(table).Select(route => route.ToString()));
    }

    [Fact]
    public void ResolversAreTheIpv4NameserversOtherThanLoopbackOnesOnce()
    {
        var resolvers = ComputerNetwork.HostResolvers(
        [
            "# generated", "search example.internal", "nameserver 127.0.0.53", "nameserver\t10.0.0.2", "nameserver fd00::1",
            "nameserver 10.0.0.2", "options edns0", "nameserver not-an-address", "nameserver 192.168.1.1 # the router",
        ]);

        Assert.Equal(["10.0.0.2", "192.168.1.1"], resolvers.Select(address => address.ToString()));
    }

    [Theory]
    [InlineData("10.1.2.0/24", "10.1.2.0/24")]
    [InlineData("10.1.2.7/24", "10.1.2.0/24")]
    [InlineData("192.168.1.20/32", "192.168.1.20/32")]
    [InlineData("8.8.8.0/24", "8.8.8.0/24")]
    public void AnAllowedNetworkIsReadInItsCanonicalForm(string text, string expected)
    {
        Assert.True(ComputerNetwork.TryParseAllowedNetwork(text, out var network));
        Assert.Equal(expected, network);
    }

    [Theory]
    [InlineData("10.1.2.0")]
    [InlineData("10.1.2.0/33")]
    [InlineData("10.1.2.0/-1")]
    [InlineData("fd00::/8")]
    [InlineData("169.254.169.254/32")]
    [InlineData("169.0.0.0/8")]
    [InlineData("0.0.0.0/0")]
    [InlineData("a.b.c.d/8")]
    public void ANetworkThatIsNotIpv4CidrOrTakesInLinkLocalIsRefusedAtStartUp(string text)
    {
        Assert.False(ComputerNetwork.TryParseAllowedNetwork(text, out _));
        var options = new ComputerOptions { AllowedPrivateNetworks = ["10.1.2.0/24", text] };
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);

        Assert.Equal(
            [$"AllowedPrivateNetworks: '{text}' is not an IPv4 network in CIDR form (such as 10.1.2.0/24) outside 169.254.0.0/16."],
            results.Select(result => result.ErrorMessage));
    }
}
