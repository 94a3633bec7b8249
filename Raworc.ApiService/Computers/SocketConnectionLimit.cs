using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Bounds the connections open on the computer socket, per computer and in all, so code in one computer cannot take the
/// API's file descriptors (each connection holds one; at the process's limit the API stops accepting and then fails) nor
/// starve the other computers' agents. A connection over either bound is closed as soon as it is accepted. On the computer
/// port (<see cref="ComputerOptions.ComputerPort"/>), where TCP gives no peer process, <see cref="PerAddress"/> counts per
/// source address instead.
/// </summary>
/// <remarks>
/// The computer is told by the connecting process's control group: the peer's pid from <c>SO_PEERCRED</c>, then the first
/// line of <c>/proc/&lt;pid&gt;/cgroup</c> (every process of a container shares it; under gVisor the sandbox's own process
/// connects, in the same group). A connection whose process has exited by then is closed at once (before, it counted under
/// a key of its own, so one computer could hold three times its bound); where this system gives no peer at all, connections
/// count under one shared key.
/// </remarks>
/// <param name="perComputer">Most open connections from one computer (<see cref="ComputerOptions.SocketConnectionsPerComputer"/>).</param>
/// <param name="total">Most open connections on the socket (<see cref="ComputerOptions.SocketConnections"/>).</param>
public sealed class SocketConnectionLimit(int perComputer, int total)
{
    // PF_EXITING in a task's flags (include/linux/sched.h): the task is exiting.
    private const uint PfExiting = 0x4;

    private readonly ConcurrentDictionary<string, int> _byComputer = new(StringComparer.Ordinal);
    private Func<ConnectionContext, string?> _keyOf = ComputerOf;
    private int _total;

    /// <summary>
    /// The bound of the computer port: at most <paramref name="perAddress"/> connections from one source address (behind a
    /// node's NAT, one node: all its computers share the address), and <paramref name="total"/> in all.
    /// </summary>
    public static SocketConnectionLimit PerAddress(int perAddress, int total) => new(perAddress, total) { _keyOf = AddressOf };

    /// <summary>
    /// The key of the connection's items (<c>ConnectionContext.Items</c>) under which <see cref="Wrap"/> leaves the connection's computer key
    /// (a string: the computer's control group on the socket, the source address on the computer port), for the rate
    /// limit of requests without a token (<see cref="Auth.RateLimits"/>).
    /// </summary>
    public const string ComputerKeyItem = "raworc.computer";

    /// <summary>
    /// Connections each computer may open whatever the total (default bounds: 4 of its 64): what an agent holds (three
    /// or four: its long-poll, a post, the model gateway). Without it one owner's computers, 64 at their bound in all,
    /// filled the total of 4,096 and every other computer's agent was refused (a break-out attempt's reasoning: one
    /// operator may have 100 live sessions). The API's descriptors are then bounded by the total plus this per live
    /// computer.
    /// </summary>
    public const int ReservedPerComputer = 4;

    /// <summary>Connections open now, in all.</summary>
    public int Open => Volatile.Read(ref _total);

    /// <summary>Kestrel connection middleware for the socket's endpoint.</summary>
    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        if (_keyOf(connection) is not { } key)
        {
            // Its process is gone already: nothing to count it against, and counting it anywhere else let one computer pass
            // its bound (connect from a child that exits at once, keep the socket in the parent).
            connection.Abort(new ConnectionAbortedException("The connecting process has exited."));
            return;
        }
        connection.Items[ComputerKeyItem] = key;
        var ofComputer = _byComputer.AddOrUpdate(key, 1, (_, count) => count + 1);
        var all = Interlocked.Increment(ref _total);
        if (ofComputer > perComputer || (all > total && ofComputer > ReservedPerComputer))
        {
            // Given back before the abort: its client learns of the refusal from the abort and may connect again at once
            // (released after it, a CI run found the next connection refused for the one already refused).
            Release(key);
            connection.Abort(new ConnectionAbortedException("Too many connections from this computer."));
            return;
        }
        try
        {
            await next(connection);
        }
        finally
        {
            Release(key);
        }
    };

    /// <summary>
    /// Gives back one connection of <paramref name="key"/>: the computer's count first, then the total, so once
    /// <see cref="Open"/> shows a connection gone its computer's count does too (the other order let a connection that
    /// waited for Open find its computer still at the bound: a CI run).
    /// </summary>
    private void Release(string key)
    {
        _byComputer.AddOrUpdate(key, 0, (_, count) => count - 1);
        _byComputer.TryRemove(new KeyValuePair<string, int>(key, 0));
        Interlocked.Decrement(ref _total);
    }

    /// <summary>The connection's source address (an IPv4 address mapped into IPv6 as IPv4); "" when the transport gives none.</summary>
    private static string AddressOf(ConnectionContext connection) => connection.RemoteEndPoint is System.Net.IPEndPoint { Address: var address }
        ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString()
        : "";

    /// <summary>
    /// The connecting computer's key: the first line of its process's control group; "" when this system does not say (no
    /// socket, no <c>SO_PEERCRED</c>), which one shared key bounds; null when the peer's process has exited (gone, or a
    /// zombie whose group no longer tells its computer).
    /// </summary>
    private static string? ComputerOf(ConnectionContext connection)
    {
        int pid;
        try
        {
            if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
            {
                return "";
            }
            Span<byte> credentials = stackalloc byte[12];
            if (socket.GetRawSocketOption(LinuxSocketOptions.SolSocket, LinuxSocketOptions.SoPeerCred, credentials) < 4)
            {
                return "";
            }
            pid = BitConverter.ToInt32(credentials[..4]);
        }
        catch (System.Net.Sockets.SocketException)
        {
            return "";
        }
        try
        {
            string group;
            using (var reader = new StreamReader($"/proc/{pid}/cgroup"))
            {
                group = reader.ReadLine() ?? "";
            }
            // After the group, so a process that exits between the two reads is taken for gone. /proc/<pid>/stat (proc(5)):
            // after the last ')' come state (Z zombie, X dead) and, sixth after it, flags; PF_EXITING (0x4) is set from
            // the start of the exit, when the group a task shows may already be another (the root) than its computer's.
            var fields = File.ReadAllText($"/proc/{pid}/stat") is var stat && stat.LastIndexOf(')') is var end and >= 0
                ? stat[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
            var exiting = fields.Length < 7 || fields[0] is "Z" or "X"
                || !uint.TryParse(fields[6], System.Globalization.CultureInfo.InvariantCulture, out var flags) || (flags & PfExiting) != 0;
            return group.Length == 0 || exiting ? null : group;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
