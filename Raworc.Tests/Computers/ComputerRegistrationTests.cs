using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Computers;

namespace Raworc.Tests.Computers;

/// <summary>What <c>AddComputers</c> registers: validated options, the provider and the "docker" health check.</summary>
public sealed class ComputerRegistrationTests
{
    private static IHost Build(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings.Select(pair => KeyValuePair.Create(pair.Key, (string?)pair.Value)));
        builder.AddComputers();
        return builder.Build();
    }

    [Fact]
    public async Task DockerHealthCheckIsHealthyWhenTheEngineAnswers()
    {
        using var host = Build();

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(HealthStatus.Healthy, report.Entries["docker"].Status);
        Assert.IsType<DockerComputerProvider>(host.Services.GetRequiredService<IComputerProvider>());
    }

    [Fact]
    public async Task DockerHealthCheckIsUnhealthyWhenTheEngineDoesNotAnswer()
    {
        using var host = Build(("Computers:DockerEndpoint", "unix:///tmp/raworc-no-engine.sock"));

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(HealthStatus.Unhealthy, report.Entries["docker"].Status);
        Assert.Equal("The Docker engine at unix:///tmp/raworc-no-engine.sock does not answer.", report.Entries["docker"].Description);
    }

    [Fact]
    public void DefaultsAreTheDocumentedOnes()
    {
        using var host = Build();

        var settings = host.Services.GetRequiredService<IOptions<ComputerOptions>>().Value;

        Assert.Equal(("raworc/host-agent:latest", 0.5, 512, "unix:///var/run/docker.sock", 300, 60),
            (settings.Image, settings.Cpus, settings.MemoryMiB, settings.DockerEndpoint, settings.SetupTimeoutSeconds, settings.StartDeadlineSeconds));
        Assert.Equal(("internet", "raworc-computers", "raworc0", true, 512, 4096, 256, 10),
            (settings.Egress, settings.Network, settings.BridgeName, settings.ManageFirewall, settings.PidsLimit, settings.OpenFilesLimit,
                settings.ScratchMiB, settings.LogMaxMiB));
        Assert.Equal("runc", settings.Runtime);
    }

    [Theory]
    [InlineData("Cpus", "0")]
    [InlineData("MemoryMiB", "1")]
    [InlineData("Image", "")]
    [InlineData("DockerEndpoint", "not an address")]
    [InlineData("Egress", "everywhere")]
    [InlineData("PidsLimit", "0")]
    [InlineData("Runtime", "")]
    [InlineData("Runtime", "runsc --root=/")]
    public async Task InvalidSettingStopsStartUpNamingTheSetting(string setting, string value)
    {
        using var host = Build(("Computers:" + setting, value));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(error.Failures, failure => failure.Contains(setting, StringComparison.Ordinal));
    }
}
