using System.Diagnostics;
using Docker.DotNet;
using Raworc.ApiService.Platform;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Spans for the Docker engine API. Docker.DotNet sends through its own socket handler, which neither the HttpClient
/// instrumentation nor any ActivitySource of its own sees, so the API wraps that handler: every engine call becomes a
/// client span of <see cref="Telemetry.Source"/> named after its method and route, e.g.
/// <c>docker POST /containers/{id}/start</c> (ids and names replaced, so the names stay few). As client spans they are
/// kept inside a request's or a unit of work's trace and dropped where they would start one (a background loop's idle
/// poll), by the service defaults' sampler.
/// </summary>
public static class DockerTracing
{
    // Second path segments that are actions on a collection, not the id or name of one object.
    private static readonly HashSet<string> CollectionActions = ["create", "json", "prune", "search", "load", "get", "build", "df"];

    private static readonly HashSet<string> ImageActions = ["json", "tag", "history", "push", "get"];

    /// <summary>A client for <paramref name="endpoint"/> whose engine calls are traced.</summary>
    /// <param name="endpoint">The engine, e.g. <c>unix:///var/run/docker.sock</c>.</param>
    public static DockerClient CreateClient(Uri endpoint) =>
#pragma warning disable CA2000 // The configuration's client owns the credentials and disposes them with itself.
        new DockerClientConfiguration(endpoint, new TracedCredentials()).CreateClient();
#pragma warning restore CA2000

    /// <summary>
    /// The span name of a request: <c>docker {METHOD} {route}</c>, where the route drops the API version prefix and the
    /// query, and puts <c>{id}</c> for the object's id or name (an image name's slashes included).
    /// </summary>
    /// <param name="method">The HTTP method.</param>
    /// <param name="path">The request's path, e.g. <c>/v1.45/containers/raworc-…/start</c>.</param>
    public static string SpanName(string method, string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (segments.Count > 0 && segments[0].Length > 1 && segments[0][0] == 'v' && char.IsDigit(segments[0][1]))
        {
            segments.RemoveAt(0);
        }
        var route = segments.Count switch
        {
            0 => "/",
            1 => "/" + segments[0],
            _ when CollectionActions.Contains(segments[1]) => $"/{segments[0]}/{segments[1]}",
            2 => $"/{segments[0]}/{{id}}",
            // An image's name may hold slashes: only a known action ends its path.
            _ when segments[0] == "images" && !ImageActions.Contains(segments[^1]) => "/images/{id}",
            _ => $"/{segments[0]}/{{id}}/{segments[^1]}",
        };
        return $"docker {method} {route}";
    }

    private sealed class TracedCredentials : Credentials
    {
        public override bool IsTlsCredentials() => false;

        public override HttpMessageHandler GetHandler(HttpMessageHandler innerHandler) => new TracingHandler(innerHandler);
    }

    private sealed class TracingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            using var activity = Telemetry.Source.StartActivity(
                SpanName(request.Method.Method, request.RequestUri?.AbsolutePath ?? "/"), ActivityKind.Client);
            if (activity is null)
            {
                return await base.SendAsync(request, cancellationToken);
            }
            activity.SetTag("http.request.method", request.Method.Method);
            activity.SetTag("server.address", "docker");
            try
            {
                var response = await base.SendAsync(request, cancellationToken);
                activity.SetTag("http.response.status_code", (int)response.StatusCode);
                if ((int)response.StatusCode >= 400)
                {
                    activity.SetStatus(ActivityStatusCode.Error);
                }
                return response;
            }
            catch (Exception ex)
            {
                activity.SetStatus(ActivityStatusCode.Error, FailureText.DescribeForLog(ex));
                throw;
            }
        }
    }
}
