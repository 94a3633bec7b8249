namespace Raworc.HostAgent.Api;

/// <summary>
/// How the Host reaches its API. In a Raworc computer the API is a Unix socket bind-mounted from the host
/// (<see cref="AgentOptions.ApiSocket"/>, usually <c>/run/raworc/api.sock</c>): the computer needs no network to
/// reach it, and the socket serves only the Host's routes. Elsewhere (tests, a remote engine) it is plain TCP to
/// <see cref="AgentOptions.ApiUrl"/>.
/// </summary>
public static class ApiTransport
{
    /// <summary>
    /// A handler for requests to the API (messages, busy/idle, the model gateway). With a socket every connection
    /// goes to that socket whatever the request's host name; the URL's host then only fills the <c>Host</c> header.
    /// </summary>
    /// <param name="options">The agent's settings.</param>
    /// <returns>A new handler; the caller's <see cref="HttpClient"/> owns it.</returns>
    public static SocketsHttpHandler CreateHandler(AgentOptions options) => CreateHandler(options.ApiSocket);

    /// <summary>A handler for requests to the API through the Unix socket at <paramref name="socketPath"/>, or plain TCP when null.</summary>
    /// <param name="socketPath">Path of the API's socket (<c>RAWORC_API_SOCKET</c>), or null.</param>
    /// <returns>A new handler; the caller's <see cref="HttpClient"/> owns it.</returns>
    public static SocketsHttpHandler CreateHandler(string? socketPath)
    {
        var handler = new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) };
        if (socketPath is { } path)
        {
            handler.ConnectCallback = UnixSocketConnector.To(path);
        }
        return handler;
    }
}
