using System.Diagnostics;
using System.Text.Json.Nodes;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Platform;

/// <summary>The AppHost's application model and its publish manifest, checked without starting anything.</summary>
public sealed class AppHostModelTests
{
    [Fact]
    public async Task ApiHasItsHttpEndpointOnPort9000AndWaitsForPostgresAndRedis()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Raworc_AppHost>(cts.Token);

        var api = builder.Resources.OfType<ProjectResource>().Single(r => r.Name == ResourceNames.Api);
        var http = api.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "http");
        Assert.Equal(9000, http.Port);

        var waitsFor = api.Annotations.OfType<WaitAnnotation>().Select(w => w.Resource.Name).Order().ToArray();
        Assert.Equal([ResourceNames.Redis, ResourceNames.Postgres, ResourceNames.Database], waitsFor);

        // A local run keeps its engine beside it and its computers on the socket: no computer port, no engine parameters.
        Assert.DoesNotContain(api.Annotations.OfType<EndpointAnnotation>(), e => e.Name == "computers");
        var parameters = builder.Resources.OfType<ParameterResource>().ToDictionary(p => p.Name);
        Assert.DoesNotContain(ResourceNames.ComputersEngine, parameters.Keys);
        foreach (var name in new[] { ResourceNames.JwtSigningKey, ResourceNames.AdminPassword, ResourceNames.AnthropicApiKey, ResourceNames.OpenAiApiKey })
        {
            Assert.True(parameters[name].Secret, $"{name} must be a secret parameter");
        }
    }

    [Fact]
    public async Task PublishManifestDescribesApiPostgresAndRedis()
    {
        var output = Path.Combine(Path.GetTempPath(), $"raworc-manifest-{Guid.NewGuid():N}.json");
        var start = new ProcessStartInfo("dotnet",
            ["run", "--no-build", "--project", Path.Combine(Repository.Root, "Raworc.AppHost"), "--",
             "--publisher", "manifest", "--output-path", output])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = process.StandardError.ReadToEndAsync(cts.Token);
        await process.WaitForExitAsync(cts.Token);
        Assert.True(process.ExitCode == 0, $"manifest publish failed: {await stdout}{await stderr}");

        var resources = JsonNode.Parse(await File.ReadAllTextAsync(output))!["resources"]!.AsObject();
        File.Delete(output);
        Assert.Equal("project.v0", (string?)resources[ResourceNames.Api]!["type"]);
        Assert.StartsWith("container.", (string?)resources[ResourceNames.Postgres]!["type"]);
        Assert.Equal("value.v0", (string?)resources[ResourceNames.Database]!["type"]);
        Assert.StartsWith("container.", (string?)resources[ResourceNames.Redis]!["type"]);
        Assert.Equal("parameter.v0", (string?)resources[ResourceNames.AdminPassword]!["type"]);
        Assert.True((bool?)resources[ResourceNames.AdminPassword]!["inputs"]!["value"]!["secret"]);

        // The computers' engine is a parameter of the deployment (azd asks for it), and computers reach the API at an
        // internal TCP port that serves the Host's routes only, never at its public HTTP endpoint.
        var env = resources[ResourceNames.Api]!["env"]!;
        Assert.Equal("{computers-provider.value}", (string?)env["Computers__Provider"]);
        Assert.Equal("{computers-engine.value}", (string?)env["Computers__DockerEndpoint"]);
        Assert.Equal("{computers-api-url.value}", (string?)env["Computers__ApiUrl"]);
        Assert.Equal("7413", (string?)env["Computers__ComputerPort"]);
        Assert.Equal("""{"scheme":"tcp","protocol":"tcp","transport":"tcp","targetPort":7413}""",
            resources[ResourceNames.Api]!["bindings"]!["computers"]!.ToJsonString());
        Assert.Equal("swarm", (string?)resources[ResourceNames.ComputersProvider]!["inputs"]!["value"]!["default"]!["value"]);
        foreach (var asked in new[] { ResourceNames.ComputersEngine, ResourceNames.ComputersApiUrl })
        {
            Assert.Equal("""{"type":"string"}""", resources[asked]!["inputs"]!["value"]!.ToJsonString());
        }
    }
}
