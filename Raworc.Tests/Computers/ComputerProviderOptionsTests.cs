using System.ComponentModel.DataAnnotations;
using Raworc.ApiService.Computers;

namespace Raworc.Tests.Computers;

/// <summary><c>Computers:Provider</c> as the API validates it at start-up (no engine involved).</summary>
public sealed class ComputerProviderOptionsTests
{
    private static List<string?> Errors(ComputerOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(result => result.ErrorMessage)];
    }

    [Fact]
    public void DockerIsTheDefaultAndSwarmIsAccepted()
    {
        Assert.Equal("docker", new ComputerOptions().Provider);
        Assert.Empty(Errors(new ComputerOptions { Provider = "swarm" }));
    }

    [Fact]
    public void AnUnknownProviderIsRefused() =>
        Assert.Equal(["Provider must be 'docker' or 'swarm'."], Errors(new ComputerOptions { Provider = "kubernetes" }));

    [Fact]
    public void SwarmWithoutNetworkIsRefusedBecauseAServiceWouldJoinTheDefaultBridge() =>
        Assert.Equal(
            ["Egress 'none' is not available with Provider 'swarm' (a service without a network joins the node's default bridge)."],
            Errors(new ComputerOptions { Provider = "swarm", Egress = "none" }));

    [Fact]
    public void ATcpMemoryLimitNotAboveTheKernelsBoundIsRefusedBecauseItWouldCloseComputersWithinTheirBound()
    {
        Assert.Equal(["MaxTcpMemoryMiB must be 0 (off) or more than TcpMemoryMiB: it closes sessions whose computers pass that bound."],
            Errors(new ComputerOptions { TcpMemoryMiB = 64, MaxTcpMemoryMiB = 64 }));
        Assert.Empty(Errors(new ComputerOptions { TcpMemoryMiB = 64, MaxTcpMemoryMiB = 65 }));
        Assert.Empty(Errors(new ComputerOptions { TcpMemoryMiB = 64, MaxTcpMemoryMiB = 0 }));
    }

    [Fact]
    public void AnApiUrlWithoutTheComputerPortIsRefusedBecauseTheHttpPortServesEveryRoute()
    {
        Assert.Equal(["ApiUrl needs ComputerPort: the port (reached at ApiUrl) on which computers find only the Host's routes."],
            Errors(new ComputerOptions { Provider = "swarm", ApiUrl = "http://10.0.0.5:7413/" }));
        Assert.Equal(["ApiUrl must be an absolute http:// or https:// address."],
            Errors(new ComputerOptions { Provider = "swarm", ApiUrl = "10.0.0.5:7413", ComputerPort = 7413 }));
        Assert.Empty(Errors(new ComputerOptions { Provider = "swarm", ApiUrl = "http://10.0.0.5:7413/", ComputerPort = 7413 }));
    }
}
