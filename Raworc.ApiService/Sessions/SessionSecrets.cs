using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace Raworc.ApiService.Sessions;

/// <summary>
/// Encrypts session secrets at rest with ASP.NET Core Data Protection. The key ring lives in Postgres
/// (table <c>data_protection_keys</c>), so every replica can read what another wrote.
/// </summary>
public sealed class SessionSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("Raworc.Sessions.Secrets.v1");

    /// <summary>The encrypted form of <paramref name="secrets"/> (null for none).</summary>
    public string? Protect(IReadOnlyDictionary<string, string>? secrets) =>
        secrets is null or { Count: 0 } ? null : _protector.Protect(JsonSerializer.Serialize(secrets));

    /// <summary>The secrets of an encrypted value (empty for null).</summary>
    public IReadOnlyDictionary<string, string> Unprotect(string? protectedSecrets) =>
        protectedSecrets is null
            ? new Dictionary<string, string>()
            : JsonSerializer.Deserialize<Dictionary<string, string>>(_protector.Unprotect(protectedSecrets)) ?? [];
}
