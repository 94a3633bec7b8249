using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Logs;
using Raworc.ApiService.Errors;

namespace Raworc.ApiService.Platform;

/// <summary>The HTTP conventions of the contract: JSON shape, body limit, error envelope everywhere.</summary>
public static class PlatformExtensions
{
    /// <summary>Largest accepted request body, in bytes (1 MiB, spec/API.md "Conventions"); larger is a 413.</summary>
    public const long MaxRequestBodyBytes = 1024 * 1024;

    /// <summary>Registers JSON conventions, the body limit, the exception handler, OpenAPI and the console log's format.</summary>
    public static WebApplicationBuilder AddPlatform(this WebApplicationBuilder builder)
    {
        // Exceptions in the console log in words only (WordsOnlyConsoleFormatter).
        builder.Logging.AddConsole(console => console.FormatterName = WordsOnlyConsoleFormatter.FormatterName)
            .AddConsoleFormatter<WordsOnlyConsoleFormatter, ConsoleFormatterOptions>();
        // And in the log records exported over OTLP, when they are (ServiceDefaults' ExportsTelemetry).
        if (ServiceDefaultsExtensions.ExportsTelemetry(builder.Configuration))
        {
            builder.Services.ConfigureOpenTelemetryLoggerProvider(logging => logging.AddProcessor(new WordsOnlyLogRecordProcessor()));
        }
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes);
        builder.Services.Configure<JsonOptions>(json => JsonConventions.Apply(json.SerializerOptions));
        // Binding failures (bad JSON, wrong types, bad query values) become exceptions so that
        // ApiExceptionHandler answers them in the envelope instead of an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = true);
        builder.Services.AddExceptionHandler<ApiExceptionHandler>();
        builder.Services.AddProblemDetails();
        builder.Services.AddRaworcOpenApi();
        return builder;
    }

    /// <summary>
    /// Adds the exception handler, the envelope for bodiless error statuses (404, 405, 401 …), <c>/openapi/v1.json</c> and
    /// its reference page <c>/scalar</c>.
    /// </summary>
    public static WebApplication UsePlatform(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(async context =>
        {
            var response = context.HttpContext.Response;
            if (response.HasStarted || response.ContentLength is > 0 || response.ContentType is not null)
            {
                return;
            }
            await response.WriteAsJsonAsync(ApiErrors.Body(response.StatusCode), context.HttpContext.RequestAborted);
        });
        // In every environment: clients generate from it, and the bad-input sweep test walks it.
        app.MapRaworcOpenApi();
        return app;
    }
}
