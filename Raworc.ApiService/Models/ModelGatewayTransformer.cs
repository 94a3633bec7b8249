using Yarp.ReverseProxy.Forwarder;

namespace Raworc.ApiService.Models;

/// <summary>
/// Rewrites a gateway request for the provider: the upstream URL, the caller's credentials (the Host token, sent as
/// <c>Authorization</c> or <c>x-api-key</c>) replaced by the provider's key, and no <c>Accept-Encoding</c>, so the answer
/// arrives uncompressed and its usage can be read.
/// </summary>
/// <param name="upstream">Where the request goes and with which key.</param>
/// <param name="path">The provider path, already checked against the gateway's allow list.</param>
public sealed class ModelGatewayTransformer(ModelUpstream upstream, string path) : HttpTransformer
{
    /// <inheritdoc />
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest,
        string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        proxyRequest.RequestUri = upstream.RequestUri(path, httpContext.Request.QueryString);
        proxyRequest.Headers.Authorization = null;
        foreach (var header in StrippedHeaders)
        {
            proxyRequest.Headers.Remove(header);
        }
        proxyRequest.Headers.Host = null;
        upstream.Authorize(proxyRequest);
    }

    private static readonly string[] StrippedHeaders = ["x-api-key", "Accept-Encoding", "Cookie", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"];
}
