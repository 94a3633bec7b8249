using System.Reflection;

namespace Raworc.ApiService.Platform;

/// <summary><c>GET /api/v0/version</c>: the running version, without authentication.</summary>
public static class VersionApi
{
    /// <summary>The body of <c>GET /api/v0/version</c>: <c>{"version":"0.1.0","api":"v0"}</c>.</summary>
    /// <param name="Version">Semantic version of the running API service.</param>
    /// <param name="Api">The API generation in the URL, always <c>v0</c>.</param>
    public sealed record VersionResponse(string Version, string Api);

    /// <summary>The semantic version of this build (the informational version without its <c>+commit</c> suffix).</summary>
    public static string CurrentVersion { get; } =
        (typeof(VersionApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0")
        .Split('+')[0];

    /// <summary>Maps the version endpoint.</summary>
    public static IEndpointRouteBuilder MapVersionApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v0/version", () => TypedResults.Ok(new VersionResponse(CurrentVersion, "v0")))
            .WithName("GetVersion")
            .WithTags("Platform")
            .AllowAnonymous();
        return routes;
    }
}
