using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Raworc.ApiService.Platform;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c> and its browsable reference at <c>/scalar</c>, in every environment and
/// without a token. <c>v1</c> is the document's name (ASP.NET Core's default, and the address clients already use);
/// the API it describes is <c>v0</c>, which <c>info.version</c> says.
/// </summary>
public static class OpenApiSetup
{
    /// <summary>The document's name, hence its address <c>/openapi/v1.json</c>.</summary>
    public const string DocumentName = "v1";

    /// <summary>The API generation in every route (<c>/api/v0/…</c>), given as the document's <c>info.version</c>.</summary>
    public const string ApiVersion = "v0";

    /// <summary>Registers the document with the bearer scheme, its info and the examples of the main bodies.</summary>
    public static IServiceCollection AddRaworcOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, openApi =>
        {
            openApi.AddDocumentTransformer<BearerSecurityTransformer>();
            openApi.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Raworc API",
                    Version = ApiVersion,
                    Description = "Sessions with a dedicated computer and a Host agent. Errors come as "
                        + "{\"error\":{\"code\",\"message\",\"details\"?}}; lists take limit (1–1000) and offset and answer "
                        + "X-Total-Count, X-Page-Offset, X-Page-Limit. The contract: docs/API.md.",
                };
                return Task.CompletedTask;
            });
            openApi.AddSchemaTransformer<OpenApiExamples>();
        });

    /// <summary>Maps <c>/openapi/v1.json</c> and the Scalar reference page <c>/scalar</c> (its script is served by the API itself).</summary>
    public static WebApplication MapRaworcOpenApi(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference(scalar => scalar
            .WithTitle("Raworc API")
            // No font files from a CDN: the page works on a machine without internet.
            .DisableDefaultFonts()
            .AddPreferredSecuritySchemes(["Bearer"]))
            .AllowAnonymous();
        return app;
    }
}
