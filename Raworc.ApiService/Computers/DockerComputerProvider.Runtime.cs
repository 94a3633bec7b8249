using System.Net;
using Docker.DotNet;

namespace Raworc.ApiService.Computers;

/// <summary>How the engine says that <see cref="ComputerOptions.Runtime"/> is not one of its runtimes.</summary>
public sealed partial class DockerComputerProvider
{
    /// <summary>
    /// Whether a failed container create means the runtime is not registered. The engine answers 400 with
    /// "Unknown runtime specified &lt;name&gt;" (20.10) or "unknown or invalid runtime name: &lt;name&gt;" (23 and later);
    /// both name the runtime, which is what is matched, so another 400 is never taken for this one.
    /// </summary>
    private static bool IsUnknownRuntime(Exception exception, string runtime) =>
        exception is DockerApiException { StatusCode: HttpStatusCode.BadRequest } api
        && api.ResponseBody is { } body
        && body.Contains("runtime", StringComparison.OrdinalIgnoreCase)
        && body.Contains(runtime, StringComparison.Ordinal);
}
