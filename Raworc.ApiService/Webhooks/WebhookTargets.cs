using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Raworc.ApiService.Webhooks;

/// <summary>
/// Which addresses a webhook may reach. Unless <see cref="WebhookOptions.AllowPrivateTargets"/> is on, refused are:
/// unspecified (<c>0.0.0.0/8</c>, <c>::</c>), loopback (<c>127.0.0.0/8</c>, <c>::1</c>), link-local
/// (<c>169.254.0.0/16</c>, <c>fe80::/10</c>), private (<c>10.0.0.0/8</c>, <c>172.16.0.0/12</c>, <c>192.168.0.0/16</c>,
/// <c>100.64.0.0/10</c>, <c>fc00::/7</c>, <c>fec0::/10</c>), multicast and reserved (<c>224.0.0.0/3</c>, <c>ff00::/8</c>,
/// and IANA's special-purpose <c>192.0.0.0/24</c>, <c>192.0.2.0/24</c>, <c>198.18.0.0/15</c>, <c>198.51.100.0/24</c>,
/// <c>203.0.113.0/24</c>, RFC 6890), and this machine's own: an address of one of its interfaces, or within a network it
/// routes other than by its default route (its LAN whatever addresses it uses, other bridges, a VPN; the networks the
/// computers' firewall keeps them off too, <see cref="Computers.ComputerNetwork"/>); an IPv4-mapped IPv6 address counts as its IPv4 address, and so does one that carries an IPv4 address for a
/// translator or tunnel (NAT64, 6to4, Teredo, IPv4-compatible). Checked at registration (the URL's literal address, or every
/// address its name resolves to; <c>localhost</c> by name) and again at every connection (the address actually
/// connected to, see <see cref="WebhookSender"/>).
/// </summary>
public static class WebhookTargets
{
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The validation message for a refused target.</summary>
    public const string RefusedMessage =
        "must not point to a loopback, link-local, private, unspecified, multicast or reserved address, nor to this machine or its networks";

    /// <summary>Why <paramref name="address"/> is refused (<c>loopback</c>, <c>private</c>, …), or null when allowed.</summary>
    public static string? Refusal(IPAddress address) => AddressRefusal(address) ?? MachineRefusal(address);

    /// <summary>
    /// Whether <paramref name="address"/> is this machine's own (<c>this machine's</c>) or in a network it routes itself
    /// (<c>this machine's network</c>). Before, a webhook to the host's own LAN address reached a listener on all its
    /// addresses, and one to <c>198.18.0.1</c> was accepted (a break-out attempt, 2026-12-05).
    /// </summary>
    private static string? MachineRefusal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses).Any(u => u.Address.Equals(address)))
        {
            return "this machine's";
        }
        var routes = Computers.ComputerNetwork.RouteFile;
        return address.AddressFamily == AddressFamily.InterNetwork && File.Exists(routes)
            && Computers.ComputerNetwork.HostRoutes(File.ReadLines(routes)).Any(network => network.Contains(address))
            ? "this machine's network" : null;
    }

    private static string? AddressRefusal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        else if (EmbeddedIPv4(address) is { } embedded)
        {
            // A translator (NAT64) or tunnel (6to4, Teredo) on the way delivers to the IPv4 address inside.
            address = embedded;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] switch
            {
                0 => "unspecified",
                127 => "loopback",
                10 => "private",
                169 when b[1] == 254 => "link-local",
                172 when b[1] is >= 16 and <= 31 => "private",
                192 when b[1] == 168 => "private",
                100 when b[1] is >= 64 and <= 127 => "private",
                192 when b[1] == 0 && b[2] is 0 or 2 => "reserved",
                198 when b[1] is 18 or 19 => "reserved",
                198 when b[1] == 51 && b[2] == 100 => "reserved",
                203 when b[1] == 0 && b[2] == 113 => "reserved",
                >= 224 => "multicast or reserved",
                _ => null,
            };
        }
        if (address.Equals(IPAddress.IPv6None) || address.Equals(IPAddress.IPv6Any))
        {
            return "unspecified";
        }
        if (IPAddress.IsLoopback(address))
        {
            return "loopback";
        }
        var first = address.GetAddressBytes()[0];
        var second = address.GetAddressBytes()[1];
        return address switch
        {
            { IsIPv6LinkLocal: true } => "link-local",
            { IsIPv6SiteLocal: true } => "private",
            { IsIPv6Multicast: true } => "multicast or reserved",
            _ when (first & 0xfe) == 0xfc => "private",
            _ when first == 0xfe && (second & 0xc0) == 0x80 => "link-local",
            _ => null,
        };
    }

    /// <summary>
    /// The IPv4 address an IPv6 address carries for a translator or tunnel, or null: NAT64 (<c>64:ff9b::/96</c>, and
    /// <c>64:ff9b:1::/48</c>, whose position varies: its last four bytes are taken), 6to4 (<c>2002::/16</c>, bytes 2–5),
    /// Teredo (<c>2001::/32</c>, the client's address in the last four bytes, inverted) and the deprecated IPv4-compatible
    /// form (<c>::/96</c> but <c>::</c> and <c>::1</c>).
    /// </summary>
    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }
        var b = address.GetAddressBytes();
        var last = b.AsSpan(12, 4);
        if ((b[0], b[1], b[2], b[3]) == (0x00, 0x64, 0xff, 0x9b) && (b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0 || (b[4], b[5]) == (0x00, 0x01)))
        {
            return new IPAddress(last);
        }
        if ((b[0], b[1]) == (0x20, 0x02))
        {
            return new IPAddress(b.AsSpan(2, 4));
        }
        if ((b[0], b[1], b[2], b[3]) == (0x20, 0x01, 0x00, 0x00))
        {
            return new IPAddress(new byte[] { (byte)~b[12], (byte)~b[13], (byte)~b[14], (byte)~b[15] });
        }
        if (b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && last.IndexOfAnyExcept((byte)0) >= 0
            && !address.Equals(IPAddress.IPv6Loopback))
        {
            return new IPAddress(last);
        }
        return null;
    }

    /// <summary>
    /// The problem with <paramref name="url"/> as a webhook target, or null when it may be registered: an absolute
    /// <c>http</c>/<c>https</c> URL without credentials or fragment, whose host (and every address it resolves to now) is
    /// allowed. A name that does not resolve now is accepted: it is checked again at every connection.
    /// </summary>
    public static async Task<string?> ProblemAsync(string url, bool allowPrivate, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            return "must be an absolute http or https URL";
        }
        if (uri.UserInfo.Length > 0 || uri.Fragment.Length > 0)
        {
            return "must not carry credentials or a fragment";
        }
        if (allowPrivate)
        {
            return null;
        }
        var host = uri.IdnHost.TrimEnd('.');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return RefusedMessage;
        }
        IPAddress[] addresses;
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            // A slow or failing resolver does not hold the request: the name is checked again at every connection.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ResolveTimeout);
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, timeout.Token);
            }
            catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                return null;
            }
        }
        return addresses.Any(a => Refusal(a) is not null) ? RefusedMessage : null;
    }
}
