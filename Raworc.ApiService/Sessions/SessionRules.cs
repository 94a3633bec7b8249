using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Raworc.ApiService.Platform;

namespace Raworc.ApiService.Sessions;

/// <summary>The validation rules of spec/API.md "Sessions" and "Messages".</summary>
public static partial class SessionRules
{
    /// <summary>Longest session name.</summary>
    public const int MaxNameLength = 100;

    /// <summary>Idle timeout bounds and default, seconds (one week at most).</summary>
    public const int MinTimeoutSeconds = 1, MaxTimeoutSeconds = 604_800, DefaultTimeoutSeconds = 300;

    /// <summary>Largest metadata object, in UTF-8 bytes of its JSON (64 KiB).</summary>
    public const int MaxMetadataBytes = 64 * 1024;

    /// <summary>Message content bounds, in characters.</summary>
    public const int MaxContentLength = 100_000;

    /// <summary>Largest instructions or setup script, in characters.</summary>
    public const int MaxScriptLength = 100_000;

    /// <summary>Most secrets per session, and longest secret value in characters.</summary>
    public const int MaxSecrets = 100, MaxSecretValueLength = 32_768;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9-]{0,99}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex SecretNamePattern();

    /// <summary>Name: 1–100 ASCII letters, digits and <c>-</c>, starting with a letter or digit, not a UUID.</summary>
    public static Validation CheckName(this Validation v, string? name) => name is null ? v : v
        .When(!NamePattern().IsMatch(name), "name", "must be 1-100 characters of ASCII letters, digits and '-', starting with a letter or digit")
        .When(Guid.TryParse(name, out _), "name", "must not look like a UUID");

    /// <summary>Metadata: at most 64 KiB of JSON.</summary>
    public static Validation CheckMetadata(this Validation v, string field, JsonObject? metadata) =>
        v.When(metadata is not null && Encoding.UTF8.GetByteCount(metadata.ToJsonString()) > MaxMetadataBytes,
            field, $"must be at most {MaxMetadataBytes} bytes of JSON");

    /// <summary>Timeout: 1…604800 seconds.</summary>
    public static Validation CheckTimeout(this Validation v, int? timeout) =>
        v.When(timeout is < MinTimeoutSeconds or > MaxTimeoutSeconds, "timeout_seconds",
            $"must be between {MinTimeoutSeconds} and {MaxTimeoutSeconds}");

    /// <summary>Secrets: environment-variable names, bounded count and size.</summary>
    public static Validation CheckSecrets(this Validation v, Dictionary<string, string>? secrets)
    {
        if (secrets is null)
        {
            return v;
        }
        v.When(secrets.Count > MaxSecrets, "secrets", $"must have at most {MaxSecrets} entries");
        foreach (var (key, value) in secrets)
        {
            v.When(!SecretNamePattern().IsMatch(key), "secrets", $"key '{Shorten(key)}' must match [A-Za-z_][A-Za-z0-9_]* (at most 128 characters)");
            v.When(value is null, "secrets", $"value of '{Shorten(key)}' must be a string");
            v.When(value is { Length: > MaxSecretValueLength }, "secrets", $"value of '{Shorten(key)}' must be at most {MaxSecretValueLength} characters");
        }
        return v;
    }

    /// <summary>Instructions and setup: at most 100,000 characters each.</summary>
    public static Validation CheckScript(this Validation v, string field, string? text) =>
        v.When(text is { Length: > MaxScriptLength }, field, $"must be at most {MaxScriptLength} characters");

    /// <summary>Message content (or a prompt): 1…100,000 characters.</summary>
    public static Validation CheckContent(this Validation v, string field, string? content, bool required) => v
        .When(required && string.IsNullOrEmpty(content), field, "is required and must not be empty")
        .When(!required && content is { Length: 0 }, field, "must not be empty")
        .When(content is { Length: > MaxContentLength }, field, $"must be at most {MaxContentLength} characters");

    private static string Shorten(string key) => key.Length <= 40 ? key : key[..40] + "…";
}
