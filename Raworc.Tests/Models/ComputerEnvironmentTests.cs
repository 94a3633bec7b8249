using Raworc.ApiService.Computers;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Models;

[ComputerLane]
[Collection(ComputersAppCollection.Name)]
public sealed class ComputerEnvironmentTests(ComputersAppFixture fixture)
{
    [Fact]
    public async Task NoProcessInAComputerCanReadAPlatformModelKey()
    {
        var (_, client) = await fixture.CreateOperatorAsync("env");
        using var _ = client;
        // No key of its own: before the gateway, such a session got the platform's key in its environment.
        var id = (await client.CreateSessionAsync(new { secrets = new { DEMO_SECRET = "demo-value" } })).Id();
        await client.WaitForStateAsync(id, "idle");

        var environment = await fixture.ExecAsync(id, "sh", "-c", "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'; env");
        var lines = environment.Split('\n');
        // The agent's own environment was read (not only the exec's).
        Assert.Contains($"RAWORC_SESSION_ID={id}", lines);
        Assert.DoesNotContain("platform-key", environment, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, line => line.StartsWith("OPENAI_API_KEY=", StringComparison.Ordinal)
            || line.StartsWith("ANTHROPIC_API_KEY=", StringComparison.Ordinal)
            || line.StartsWith("RAWORC_MODEL_BASE_URL=", StringComparison.Ordinal));
        Assert.Contains("RAWORC_MODEL_GATEWAY=true", lines);

        var container = await fixture.Docker.Containers.InspectContainerAsync(DockerComputerProvider.NameOf(id));
        Assert.DoesNotContain(container.Config.Env, e => e.Contains("platform-key", StringComparison.Ordinal));
    }
}
