using System.Net.Sockets;

namespace Raworc;

/// <summary>
/// The <see cref="SocketsHttpHandler.ConnectCallback"/> of an HTTP client that talks over a Unix socket: the Host agent
/// to the API's computer socket, the API to a Docker engine's socket. One definition, compiled into both.
/// </summary>
internal static class UnixSocketConnector
{
    /// <summary>
    /// A connect callback that opens every connection to the socket at <paramref name="path"/>, whatever the request's host
    /// (which then only fills the <c>Host</c> header). A failed connect throws the <see cref="SocketException"/> and leaves
    /// no socket open.
    /// </summary>
    /// <param name="path">The socket file.</param>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> To(string path) => async (_, cancellationToken) =>
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    };
}
