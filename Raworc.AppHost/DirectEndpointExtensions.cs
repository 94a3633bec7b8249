using System.Net;
using System.Net.Sockets;

namespace Raworc.AppHost;

/// <summary>
/// Publishes a container's endpoint on a port of this machine that the API connects to itself, without DCP's proxy in
/// between. By default Aspire puts a proxy (a process of its own, <c>dcp</c>) in front of every container endpoint, so
/// each of the API's Postgres and Redis round trips crossed one more process on the way there and back: in the
/// benchmark's <c>GET</c> rows that proxy took about a quarter of a core (README "Benchmarks").
/// </summary>
internal static class DirectEndpointExtensions
{
    /// <summary>
    /// Turns the proxy off for <paramref name="container"/>'s endpoints and gives <paramref name="endpointName"/> a host
    /// port that was free when the AppHost started (a proxy-less endpoint would otherwise take the container's own port,
    /// 5432 or 6379, as the host port, which a second system on the machine, or a database already there, holds), below
    /// the kernel's range for outgoing connections so that none of those takes it before Docker publishes it. Run mode
    /// only: a published deployment has no DCP.
    /// </summary>
    /// <param name="container">Postgres's or Redis's container.</param>
    /// <param name="endpointName">The endpoint the API connects to (<c>tcp</c> for both).</param>
    /// <param name="isRunMode">False in publish mode, where nothing changes.</param>
    public static IResourceBuilder<T> WithDirectEndpoint<T>(this IResourceBuilder<T> container, string endpointName, bool isRunMode)
        where T : ContainerResource
    {
        if (!isRunMode)
        {
            return container;
        }
#pragma warning disable ASPIREPROXYENDPOINTS001 // Experimental in Aspire 13: the proxy switch of a container's endpoints.
        container.WithEndpointProxySupport(false);
#pragma warning restore ASPIREPROXYENDPOINTS001
        return container.WithEndpoint(endpointName, endpoint => endpoint.Port ??= FreeLoopbackPort());
    }

    /// <summary>Lowest port tried; below it are the well-known and registered ports people set by hand.</summary>
    private const int LowestPort = 20000;

    // A port between LowestPort and the start of the ephemeral range (Linux: ip_local_port_range, 32768 by default) that
    // could be bound on loopback a moment ago; the kernel's own pick if fifty random ones could not.
    private static int FreeLoopbackPort()
    {
        var ephemeralStart = 32768;
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        if (File.Exists(range) && int.TryParse(File.ReadAllText(range).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0],
                System.Globalization.CultureInfo.InvariantCulture, out var start) && start > LowestPort + 1000)
        {
            ephemeralStart = start;
        }
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var port = Random.Shared.Next(LowestPort, ephemeralStart);
            if (CanBind(port))
            {
                return port;
            }
        }
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Any, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
