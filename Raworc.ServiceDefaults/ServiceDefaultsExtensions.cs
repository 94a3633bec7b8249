using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The defaults every Raworc process shares: OpenTelemetry (logs, metrics, traces exported over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and not recorded at all when it is not), service discovery, HTTP client resilience, and the
/// <c>/health</c> and <c>/alive</c> endpoints. Kept generic so the API service and the Host agent both use it.
/// </summary>
public static class ServiceDefaultsExtensions
{
    private const string HealthEndpointPath = "/health";
    private const string AlivenessEndpointPath = "/alive";

    /// <summary>Tag of the health checks that only say the process is up (served on <c>/alive</c>).</summary>
    public const string LiveTag = "live";

    /// <summary>Adds telemetry, default health checks, service discovery and resilient HTTP clients.</summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        return builder;
    }

    /// <summary>
    /// True when telemetry has somewhere to go: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the AppHost sets it to the Aspire
    /// dashboard's collector). Without it nothing is recorded at all, neither by these defaults nor by the client
    /// integrations (<c>DisableTracing</c>/<c>DisableMetrics</c> of Npgsql and Redis follow this): spans, metrics and log
    /// records that no exporter sends would cost every request CPU for nothing.
    /// </summary>
    public static bool ExportsTelemetry(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    /// <summary>
    /// Configures OpenTelemetry logging, metrics and tracing for ASP.NET Core, HttpClient and the runtime, exported over
    /// OTLP, when <see cref="ExportsTelemetry"/>; otherwise registers none of it.
    /// </summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        if (!ExportsTelemetry(builder.Configuration))
        {
            return builder;
        }

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation())
            .WithTracing(tracing => tracing
                // Background loops poll every second or so; only their work, and every request, becomes a trace.
                .SetSampler(QuietRootSampler.ParentBased())
                .AddSource(builder.Environment.ApplicationName)
                .AddAspNetCoreInstrumentation(asp =>
                    // Probes would drown real requests in the trace view.
                    asp.Filter = context =>
                        !context.Request.Path.StartsWithSegments(HealthEndpointPath)
                        && !context.Request.Path.StartsWithSegments(AlivenessEndpointPath))
                .AddHttpClientInstrumentation())
            .UseOtlpExporter();
        return builder;
    }

    /// <summary>Adds a liveness check tagged <see cref="LiveTag"/>; features add their own readiness checks.</summary>
    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (every check must pass: ready to serve) and <c>/alive</c> (only the
    /// <see cref="LiveTag"/> checks: the process is up). Both answer <c>Healthy</c>/<c>Unhealthy</c> as text.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath);
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(LiveTag),
        });
        return app;
    }
}
