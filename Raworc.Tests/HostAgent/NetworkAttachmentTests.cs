using Raworc.HostAgent;

namespace Raworc.Tests.HostAgent;

/// <summary>
/// The agent's wait for a network attached after its computer's start, with the route check counted. That a real
/// computer's first command waits is <c>SessionComputersTests.AComputerFoundWithoutItsNetworkIsAttachedAgainAndTheHostsFirstCommandWaitsForIt</c>.
/// </summary>
public sealed class NetworkAttachmentTests
{
    [Fact]
    public async Task WaitsUntilTheRouteIsThereThenNeverChecksAgain()
    {
        var checks = 0;
        var network = new NetworkAttachment(pending: true, () => ++checks >= 3);

        var first = await network.WaitAsync(CancellationToken.None);
        var second = await network.WaitAsync(CancellationToken.None);

        Assert.Equal((true, true, 3, true), (first, second, checks, network.Settled));
    }

    [Fact]
    public async Task GivesUpAfterItsLimitAndLaterCommandsDoNotWaitAgain()
    {
        var checks = 0;
        var network = new NetworkAttachment(pending: true, () => { checks++; return false; }, TimeSpan.FromMilliseconds(50));

        var first = await network.WaitAsync(CancellationToken.None);
        var checksWhenGivenUp = checks;
        var second = await network.WaitAsync(CancellationToken.None);

        Assert.False(first);
        Assert.True(second);
        Assert.True(network.Settled);
        Assert.Equal(checksWhenGivenUp, checks);
        // It checked again while waiting (every 10 ms; how often exactly depends on the timer under load), not once and gave up.
        Assert.True(checksWhenGivenUp >= 2, $"checked {checksWhenGivenUp} times");
    }

    [Fact]
    public async Task NotPendingNeverChecks()
    {
        var checks = 0;
        var network = new NetworkAttachment(pending: false, () => { checks++; return false; });

        Assert.True(await network.WaitAsync(CancellationToken.None));
        Assert.Equal(0, checks);
    }

    [Theory]
    [InlineData("true", false)]
    [InlineData("TRUE", false)]
    [InlineData("false", true)]
    [InlineData(null, true)]
    public void PendingOnlyWhenTheVariableSaysTrue(string? value, bool settled)
    {
        var environment = AgentEnvironment.From(new Dictionary<string, string?> { ["RAWORC_NETWORK_PENDING"] = value });

        Assert.Equal(settled, NetworkAttachment.FromEnvironment(environment).Settled);
    }

    [Fact]
    public void ThisMachineHasARouteOutAsAnAttachedComputerDoes()
    {
        // The check a computer runs, here: the test machine has a default route (as the computer has once attached).
        Assert.True(NetworkAttachment.HasRouteOut());
    }
}
