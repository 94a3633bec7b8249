using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Raworc.HostAgent;

/// <summary>
/// Holds the session's code until the computer's network is attached, for a computer whose network the API attaches
/// after its start (<c>RAWORC_NETWORK_PENDING=true</c>): the agent reports ready before, and <c>setup.sh</c> and each bash
/// command wait here first. Attached means the kernel has an IPv4 route out: a UDP socket <c>connect</c> to
/// <see cref="Probe"/> succeeds (no packet is sent; it fails with "Network is unreachable" while the computer has only its
/// loopback). Not the interface list, which gVisor does not update for an interface added after the start (the API sets
/// the variable under runc only: under gVisor a late-attached sandbox resolved no name).
/// </summary>
/// <remarks>
/// Checked every <see cref="PollInterval"/> until attached or <see cref="Limit"/> has passed since the first wait; past
/// that the code runs anyway (the API's reconciler attaches a computer it finds without its network within seconds) and
/// no later command waits again. Once attached, a wait costs nothing.
/// </remarks>
public sealed class NetworkAttachment
{
    /// <summary>How long the first wait may take at most: 30 s.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    /// <summary>How often the route is checked while waiting: 10 ms.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// The address whose route is looked up: 203.0.113.1, in TEST-NET-3 (RFC 5737, documentation only), so that nothing
    /// anywhere answers for it; only the default route leads to it.
    /// </summary>
    public static readonly IPEndPoint Probe = new(IPAddress.Parse("203.0.113.1"), 9);

    private readonly Func<bool> _hasRoute;
    private readonly TimeSpan _limit;
    private volatile bool _settled;

    /// <summary>A wait that checks the route with <paramref name="hasRoute"/>; settled already when <paramref name="pending"/> is false.</summary>
    /// <param name="pending">Whether the network is still to come (<c>RAWORC_NETWORK_PENDING</c>).</param>
    /// <param name="hasRoute">The check; <see cref="HasRouteOut"/> in a computer.</param>
    /// <param name="limit">How long the first wait may take; <see cref="Limit"/> when null.</param>
    public NetworkAttachment(bool pending, Func<bool>? hasRoute = null, TimeSpan? limit = null) =>
        (_settled, _hasRoute, _limit) = (!pending, hasRoute ?? HasRouteOut, limit ?? Limit);

    /// <summary>From the variable <c>RAWORC_NETWORK_PENDING</c> (<c>true</c>, any case, means pending).</summary>
    public static NetworkAttachment FromEnvironment(AgentEnvironment environment) =>
        new(string.Equals(environment[HostAgentVariables.NetworkPending], "true", StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether no wait is needed any more (attached, not pending, or given up on).</summary>
    public bool Settled => _settled;

    /// <summary>
    /// Completes once the computer has a route out, or the limit (<see cref="Limit"/>) after the first call began. Calls
    /// at once are fine: each checks until one of them settles it.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait (throws <see cref="OperationCanceledException"/>).</param>
    /// <returns>True when the route is there; false when the wait gave up.</returns>
    public async ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
    {
        if (_settled)
        {
            return true;
        }
        var waited = Stopwatch.StartNew();
        while (!_hasRoute())
        {
            if (waited.Elapsed >= _limit)
            {
                _settled = true;
                return false;
            }
            await Task.Delay(PollInterval, cancellationToken);
        }
        _settled = true;
        return true;
    }

    /// <summary>Whether the kernel routes <see cref="Probe"/> (a UDP connect, which sends nothing).</summary>
    public static bool HasRouteOut()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Connect(Probe);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
