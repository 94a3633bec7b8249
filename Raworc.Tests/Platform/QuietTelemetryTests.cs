using System.Diagnostics;
using Aspire.Hosting.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Raworc.ApiService.Computers;
using Raworc.ApiService.Data;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Platform;
using Raworc.ApiService.Sessions;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;
using SessionOptions = Raworc.ApiService.Sessions.SessionOptions;

namespace Raworc.Tests.Platform;

/// <summary>
/// The traces the service defaults keep (item 9 of issue 15): a background loop's idle tick starts no trace, its work
/// does; requests stay whole. In-process, with the API's own registrations, over the AppHost's Postgres and Redis, exporting
/// to an OTLP receiver of the test's own; without an exporter nothing is recorded.
/// </summary>
[Collection(RaworcAppCollection.Name)]
public sealed class QuietTelemetryTests(RaworcAppFixture fixture) : IAsyncLifetime
{
    private const string OutgoingSource = "Raworc.Tests.Outgoing";

    private OtlpTraceReceiver? _receiver;

    public async Task InitializeAsync() => _receiver = await OtlpTraceReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        if (_receiver is not null)
        {
            await _receiver.DisposeAsync();
        }
    }

    [Fact]
    public async Task WithoutAnExporterNoTracesMetricsOrLogRecordsAreMade()
    {
        var builder = await ApiBuilderAsync(exporter: false);
        await using var app = builder.Build();

        Assert.Null(app.Services.GetService<TracerProvider>());
        Assert.Null(app.Services.GetService<MeterProvider>());
        Assert.DoesNotContain(app.Services.GetServices<ILoggerProvider>(), provider => provider is OpenTelemetryLoggerProvider);
    }

    [Fact]
    public async Task AnOutgoingCallThatStartsATraceIsDroppedWhileRequestsAndBackgroundWorkAreKeptWhole()
    {
        var collector = new RootCollector();
        await using var app = await BuildApiServicesAsync(TimeProvider.System, collector, extraSource: OutgoingSource);
        using var outgoing = new ActivitySource(OutgoingSource);

        using (var lonely = outgoing.StartActivity("SELECT 1", ActivityKind.Client))
        {
            Assert.False(lonely?.Recorded ?? false);
        }
        using (var request = outgoing.StartActivity("GET /api/v0/sessions", ActivityKind.Server))
        using (var query = outgoing.StartActivity("SELECT sessions", ActivityKind.Client))
        {
            Assert.True(request!.Recorded);
            Assert.Equal(request.TraceId, query!.TraceId);
            Assert.True(query.Recorded);
        }
        var session = Guid.NewGuid();
        using (var work = Telemetry.StartBackgroundWork("close idle session", session))
        using (var query = outgoing.StartActivity("UPDATE sessions", ActivityKind.Client))
        {
            Assert.True(work!.Recorded);
            Assert.Null(work.Parent);
            Assert.True(query!.Recorded);
        }
        Assert.Equal(["close idle session"], collector.Roots(Telemetry.SourceName).Select(a => a.DisplayName));
    }

    [Fact]
    public async Task AnEngineCallStartsNoTraceOfItsOwnAndIsASpanInsideTheWorkThatMadeIt()
    {
        var collector = new RootCollector();
        await using var app = await BuildApiServicesAsync(TimeProvider.System, collector);
        using var docker = DockerTracing.CreateClient(new Uri("unix:///var/run/docker.sock"));

        // A loop's poll of the engine (the reconciler lists containers every few seconds) leaves nothing.
        await docker.Containers.ListContainersAsync(new Docker.DotNet.Models.ContainersListParameters { Limit = 1 });
        Assert.Empty(collector.All);

        var session = Guid.NewGuid();
        using (Telemetry.StartBackgroundWork("reconcile lost computer", session))
        {
            await docker.Containers.ListContainersAsync(new Docker.DotNet.Models.ContainersListParameters { Limit = 1 });
        }
        var work = Assert.Single(collector.Roots(Telemetry.SourceName));
        var call = Assert.Single(collector.All, a => a.Kind == ActivityKind.Client);
        Assert.Equal(("docker GET /containers/json", work.SpanId, 200), (call.DisplayName, call.ParentSpanId, (int?)call.GetTagItem("http.response.status_code")));
        Assert.Equal("docker POST /containers/{id}/start", DockerTracing.SpanName("POST", "/v1.45/containers/raworc-0b5e/start"));
        Assert.Equal("docker DELETE /images/{id}", DockerTracing.SpanName("DELETE", "/images/raworc/host-agent:tests"));
    }

    [Fact]
    public async Task TheTurnSweeperStartsNoTraceOnIdleTicksAndOneTraceForATurnItEnds()
    {
        var (_, client) = await fixture.CreateOperatorAsync("traced");
        using var _ = client;
        var session = (await client.CreateSessionAsync()).Id();
        using var host = fixture.CreateHostClient(session);
        await host.PostOkAsync($"/api/v0/sessions/{session}/idle");
        await client.PostOkAsync($"/api/v0/sessions/{session}/messages", new { content = "work" });

        // The in-process sweeper's clock runs an hour ahead, so this busy session is silent to it (and to nothing else).
        var ahead = new ShiftedTimeProvider(TimeSpan.FromHours(1));
        var collector = new RootCollector();
        await using var app = await BuildApiServicesAsync(ahead, collector);
        var scopes = app.Services.GetRequiredService<IServiceScopeFactory>();

        var patient = new TurnSweeper(scopes, Options.Create(new SessionOptions { BusyHeartbeatSeconds = 86_400 }), TimeProvider.System,
            NullLogger<TurnSweeper>.Instance);
        for (var tick = 0; tick < 10; tick++)
        {
            Assert.Empty(await patient.EndSilentTurnsAsync(CancellationToken.None));
        }
        Assert.Empty(collector.Roots("Npgsql", Telemetry.SourceName));

        var sweeper = new TurnSweeper(scopes, Options.Create(new SessionOptions { BusyHeartbeatSeconds = 60 }), ahead,
            NullLogger<TurnSweeper>.Instance);
        Assert.Contains(session, await sweeper.EndSilentTurnsAsync(CancellationToken.None));
        var turn = Assert.Single(collector.Roots("Npgsql", Telemetry.SourceName), a => (string?)a.GetTagItem(Telemetry.SessionTag) == session.ToString());
        Assert.Equal("end silent turn", turn.DisplayName);
        // Its queries are inside its trace, not traces of their own.
        Assert.Contains(collector.All, a => a.Source.Name == "Npgsql" && a.TraceId == turn.TraceId);
    }

    /// <summary>
    /// The API's registrations (telemetry exported to this test's receiver, data, sessions, messages) without its host
    /// running, plus a collector that sees every span the exporter is given.
    /// </summary>
    private async Task<WebApplication> BuildApiServicesAsync(TimeProvider clock, RootCollector collector, string? extraSource = null)
    {
        var builder = await ApiBuilderAsync(exporter: true);
        builder.Services.AddSingleton(clock);
        builder.Services.Configure<JsonOptions>(json => JsonConventions.Apply(json.SerializerOptions));
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing =>
        {
            tracing.AddProcessor(collector);
            if (extraSource is not null)
            {
                tracing.AddSource(extraSource);
            }
        });
        var app = builder.Build();
        app.Services.GetRequiredService<TracerProvider>();
        return app;
    }

    private async Task<WebApplicationBuilder> ApiBuilderAsync(bool exporter)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ApplicationName = Telemetry.SourceName });
        builder.Configuration[$"ConnectionStrings:{ResourceNames.Database}"] = await fixture.App.GetConnectionStringAsync(ResourceNames.Database);
        builder.Configuration[$"ConnectionStrings:{ResourceNames.Redis}"] = await fixture.App.GetConnectionStringAsync(ResourceNames.Redis);
        // The test process's own environment may name a collector; this builder decides for itself.
        builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] = exporter ? _receiver!.Endpoint.ToString() : "";
        builder.Configuration["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        builder.AddServiceDefaults();
        builder.AddRaworcData();
        builder.AddSessions();
        builder.AddMessages();
        return builder;
    }

    /// <summary>Keeps every span the provider records (what an exporter would send).</summary>
    private sealed class RootCollector : BaseProcessor<Activity>
    {
        private readonly List<Activity> _ended = [];

        public IReadOnlyList<Activity> All
        {
            get
            {
                lock (_ended)
                {
                    return [.. _ended];
                }
            }
        }

        /// <summary>Recorded spans of the given sources that start a trace.</summary>
        public IReadOnlyList<Activity> Roots(params string[] sources) =>
            [.. All.Where(a => a.Recorded && a.ParentSpanId == default && sources.Contains(a.Source.Name))];

        public override void OnEnd(Activity data)
        {
            lock (_ended)
            {
                _ended.Add(data);
            }
        }
    }

    private sealed class ShiftedTimeProvider(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + shift;
    }
}
