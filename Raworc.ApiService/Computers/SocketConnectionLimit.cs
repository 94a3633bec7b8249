using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Bounds the connections open on the computer socket, per computer and in all, so code in one computer cannot take the
/// API's file descriptors (each connection holds one; at the process's limit the API stops accepting and then fails) nor
/// starve the other computers' agents. A connection over either bound is closed as soon as it is accepted.
/// </summary>
/// <remarks>
/// The computer is told by the connecting process's control group: the peer's pid from <c>SO_PEERCRED</c>, then the first
/// line of <c>/proc/&lt;pid&gt;/cgroup</c> (every process of a container shares it; under gVisor the sandbox's own process
/// connects, in the same group). Where that cannot be read the connection counts under one shared key.
/// </remarks>
/// <param name="perComputer">Most open connections from one computer (<see cref="ComputerOptions.SocketConnectionsPerComputer"/>).</param>
/// <param name="total">Most open connections on the socket (<see cref="ComputerOptions.SocketConnections"/>).</param>
public sealed class SocketConnectionLimit(int perComputer, int total)
{
    // SOL_SOCKET and SO_PEERCRED on Linux (asm-generic/socket.h); struct ucred is pid, uid, gid as three 32-bit ints.
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    private readonly ConcurrentDictionary<string, int> _byComputer = new(StringComparer.Ordinal);
    private int _total;

    /// <summary>Connections open now, in all.</summary>
    public int Open => Volatile.Read(ref _total);

    /// <summary>Kestrel connection middleware for the socket's endpoint.</summary>
    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        var key = ComputerOf(connection);
        var ofComputer = _byComputer.AddOrUpdate(key, 1, (_, count) => count + 1);
        var all = Interlocked.Increment(ref _total);
        try
        {
            if (ofComputer <= perComputer && all <= total)
            {
                await next(connection);
            }
            else
            {
                connection.Abort(new ConnectionAbortedException("Too many connections from this computer."));
            }
        }
        finally
        {
            Interlocked.Decrement(ref _total);
            _byComputer.AddOrUpdate(key, 0, (_, count) => count - 1);
            _byComputer.TryRemove(new KeyValuePair<string, int>(key, 0));
        }
    };

    private static string ComputerOf(ConnectionContext connection)
    {
        try
        {
            if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
            {
                return "";
            }
            Span<byte> credentials = stackalloc byte[12];
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials) < 4)
            {
                return "";
            }
            var pid = BitConverter.ToInt32(credentials[..4]);
            using var reader = new StreamReader($"/proc/{pid}/cgroup");
            return reader.ReadLine() ?? "";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            // The peer exited already, or this system does not say: the shared key still bounds it.
            return "";
        }
    }
}
