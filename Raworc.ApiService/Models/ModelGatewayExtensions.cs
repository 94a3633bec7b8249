using System.Net;
using Yarp.ReverseProxy.Forwarder;

namespace Raworc.ApiService.Models;

/// <summary>Registers the model gateway.</summary>
public static class ModelGatewayExtensions
{
    /// <summary>Registers YARP's forwarder and the one <see cref="ModelGatewayClient"/> all gateway calls share.</summary>
    public static WebApplicationBuilder AddModelGateway(this WebApplicationBuilder builder)
    {
        builder.Services.AddHttpForwarder();
        builder.Services.AddSingleton<ModelGatewayClient>();
        return builder;
    }
}

/// <summary>
/// The connection pool towards the providers: no redirects, no cookies, no decompression (answers pass through as
/// sent), no system proxy, a 15 s connect timeout.
/// </summary>
public sealed class ModelGatewayClient : IDisposable
{
    /// <summary>The invoker YARP sends through.</summary>
    public HttpMessageInvoker Invoker { get; } = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        EnableMultipleHttp2Connections = true,
    });

    /// <inheritdoc />
    public void Dispose() => Invoker.Dispose();
}

/// <summary>The gateway's log lines: provider and YARP's error kind only, never a URL's query, a header, a key or a token.</summary>
internal static partial class ModelGatewayLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Model gateway call to {Provider} failed: {Error}")]
    public static partial void ForwardFailed(ILogger logger, string provider, ForwarderError error);
}
