using Raworc.ApiService.Computers.Swarm;

namespace Raworc.Tests.Computers;

/// <summary>
/// Which task errors of a Swarm node say that its engine kept a stale record of the computers' network (moby/moby#37087):
/// the first line is the error a node of the test cluster gave every task after its engine was stopped on a loaded machine.
/// </summary>
public class SwarmTaskErrorTests
{
    [Theory]
    [InlineData("network r7r755y9ixgtgo523ji1iscgp exists", true)]
    [InlineData("network raworc-computers exists", true)]
    [InlineData("network raworc-computers not found", false)]
    [InlineData("starting container failed: network r7r755y9ixgtgo523ji1iscgp exists", false)]
    [InlineData("network a b exists", false)]
    [InlineData("network  exists", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void TheStaleNetworkRefusalIsTheEnginesWholeErrorNamingOneNetwork(string? error, bool stale) =>
        Assert.Equal(stale, SwarmComputerProvider.IsStaleNetwork(error));
}
