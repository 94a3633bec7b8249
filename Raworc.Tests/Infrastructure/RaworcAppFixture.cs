using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Raworc.Tests.Infrastructure;

/// <summary>
/// The whole AppHost (real Postgres, Redis and the API), started once for the test collection.
/// </summary>
public sealed class RaworcAppFixture : IAsyncLifetime
{
    /// <summary>The bootstrap admin password the tests run with.</summary>
    public const string AdminPassword = "admin-test-password-1";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);

    private DistributedApplication? _app;

    /// <summary>The started application.</summary>
    public DistributedApplication App => _app ?? throw new InvalidOperationException("The AppHost has not started.");

    /// <summary>A client whose base address is the API's HTTP endpoint (no resilience handler: tests see every failure).</summary>
    public HttpClient CreateApiClient() => App.CreateHttpClient(ResourceNames.Api, "http");

    public async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Raworc_AppHost>(
            [
                $"--Parameters:{ResourceNames.AdminPassword}={AdminPassword}",
                $"--Raworc:OfflineImages={Environment.GetEnvironmentVariable("Raworc__OfflineImages") ?? "false"}",
            ],
            cts.Token);

        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            // No dashboard listens in tests; the OTLP exporter would delay every shutdown by ~10 s.
            project.Annotations.Add(new EnvironmentCallbackAnnotation(context =>
                context.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT")));
        }

        _app = await builder.BuildAsync(cts.Token);
        await _app.StartAsync(cts.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.Api, cts.Token);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await _app.StopAsync(cts.Token);
            await _app.DisposeAsync();
        }
    }
}

/// <summary>Every test that needs the running system shares one started AppHost.</summary>
[CollectionDefinition(Name)]
public sealed class RaworcAppCollection : ICollectionFixture<RaworcAppFixture>
{
    public const string Name = "Raworc app";
}
