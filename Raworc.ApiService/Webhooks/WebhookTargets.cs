using System.Net;
using System.Net.Sockets;

namespace Raworc.ApiService.Webhooks;

/// <summary>
/// Which addresses a webhook may reach. Unless <see cref="WebhookOptions.AllowPrivateTargets"/> is on, refused are:
/// unspecified (<c>0.0.0.0/8</c>, <c>::</c>), loopback (<c>127.0.0.0/8</c>, <c>::1</c>), link-local
/// (<c>169.254.0.0/16</c>, <c>fe80::/10</c>), private (<c>10.0.0.0/8</c>, <c>172.16.0.0/12</c>, <c>192.168.0.0/16</c>,
/// <c>100.64.0.0/10</c>, <c>fc00::/7</c>, <c>fec0::/10</c>), multicast and reserved (<c>224.0.0.0/3</c>, <c>ff00::/8</c>);
/// an IPv4-mapped IPv6 address counts as its IPv4 address. Checked at registration (the URL's literal address, or every
/// address its name resolves to; <c>localhost</c> by name) and again at every connection (the address actually
/// connected to, see <see cref="WebhookSender"/>).
/// </summary>
public static class WebhookTargets
{
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The validation message for a refused target.</summary>
    public const string RefusedMessage =
        "must not point to a loopback, link-local, private, unspecified or multicast address";

    /// <summary>Why <paramref name="address"/> is refused (<c>loopback</c>, <c>private</c>, …), or null when allowed.</summary>
    public static string? Refusal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
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
