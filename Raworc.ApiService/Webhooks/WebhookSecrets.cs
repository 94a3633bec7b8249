using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Raworc.ApiService.Webhooks;

/// <summary>
/// Makes and keeps webhook signing secrets: <c>whsec_</c> and 32 random bytes in base64url, encrypted at rest with
/// ASP.NET Core Data Protection (the key ring in Postgres, as for session secrets).
/// </summary>
public sealed class WebhookSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("Raworc.Webhooks.Secrets.v1");

    /// <summary>A new secret, in clear (shown to its owner once).</summary>
    public static string NewSecret() => "whsec_" + Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    /// <summary>The encrypted form of <paramref name="secret"/>.</summary>
    public string Protect(string secret) => _protector.Protect(secret);

    /// <summary>The secret of an encrypted value.</summary>
    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);
}
