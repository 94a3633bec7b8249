using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Raworc.ApiService.Webhooks;

/// <summary>
/// The signature of a delivery, header <c>Raworc-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex&gt;</c>, where the hex is
/// HMAC-SHA256, keyed with the secret's UTF-8 bytes (the whole <c>whsec_…</c> string), of <c>"&lt;t&gt;.&lt;body&gt;"</c>.
/// A receiver recomputes it over the raw body, compares in constant time and refuses an old <c>t</c> (a replay).
/// </summary>
public static class WebhookSignature
{
    /// <summary>The signature header.</summary>
    public const string Header = "Raworc-Signature";

    /// <summary>The event id header (the payload's <c>id</c>).</summary>
    public const string EventIdHeader = "Raworc-Event-Id";

    /// <summary>The event type header (the payload's <c>type</c>).</summary>
    public const string EventTypeHeader = "Raworc-Event-Type";

    /// <summary>The header value for <paramref name="body"/> signed at <paramref name="timestamp"/>.</summary>
    public static string Sign(string secret, DateTimeOffset timestamp, string body)
    {
        var t = timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }
}
