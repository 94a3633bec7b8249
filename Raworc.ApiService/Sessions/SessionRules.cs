using System.Collections.Frozen;
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

    /// <summary>Message content bounds, in characters (<see cref="MessageLimits.MaxContentLength"/>, shared with the agent).</summary>
    public const int MaxContentLength = MessageLimits.MaxContentLength;

    /// <summary>Largest instructions or setup script, in characters.</summary>
    public const int MaxScriptLength = 100_000;

    /// <summary>Most secrets per session, and longest secret value in characters.</summary>
    public const int MaxSecrets = 100, MaxSecretValueLength = 32_768;

    /// <summary>
    /// Secret names the platform sets in a computer, or that change how its programs (the Host agent included) start,
    /// load code or reach a model: compared ignoring case, because the Host agent reads its settings through .NET
    /// configuration, whose keys are case-insensitive (<c>raworc_host_token</c> would reach <c>RAWORC_HOST_TOKEN</c>).
    /// <c>ANTHROPIC_API_KEY</c> and <c>OPENAI_API_KEY</c> are not reserved: a session may bring its own key.
    /// </summary>
    public static readonly FrozenSet<string> ReservedSecretNames = new[]
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "GLIBC_TUNABLES",
        "ANTHROPIC_BASE_URL", "ANTHROPIC_API_URL", "OPENAI_BASE_URL", "OPENAI_API_BASE",
        "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Reserved prefixes of secret names, compared ignoring case: the platform's own variables, the dynamic loader's,
    /// and the .NET runtime's (startup hooks and profilers load code into the Host agent).
    /// </summary>
    public static readonly IReadOnlyList<string> ReservedSecretPrefixes = ["RAWORC_", "LD_", "DOTNET_", "CORECLR_", "COMPLUS_"];

    // \A and \z: '$' would also match before a final newline, letting "prod\n" through.
    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9-]{0,99}\z")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"\A[A-Za-z_][A-Za-z0-9_]{0,127}\z")]
    private static partial Regex SecretNamePattern();

    /// <summary>True when <paramref name="name"/> is one of <see cref="ReservedSecretNames"/> or starts with one of <see cref="ReservedSecretPrefixes"/> (any case).</summary>
    public static bool IsReservedSecretName(string name) =>
        ReservedSecretNames.Contains(name) || ReservedSecretPrefixes.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));

    /// <summary>Name: 1–100 ASCII letters, digits and <c>-</c>, starting with a letter or digit, not a UUID.</summary>
    public static Validation CheckName(this Validation v, string? name) => name is null ? v : v
        .When(!NamePattern().IsMatch(name), "name", "must be 1-100 characters of ASCII letters, digits and '-', starting with a letter or digit")
        .When(Guid.TryParse(name, out _), "name", "must not look like a UUID");

    /// <summary>Metadata: at most 64 KiB of JSON, with no U+0000 in any name or string (jsonb refuses it).</summary>
    public static Validation CheckMetadata(this Validation v, string field, JsonObject? metadata) => v
        .When(metadata is not null && Encoding.UTF8.GetByteCount(metadata.ToJsonString()) > MaxMetadataBytes,
            field, $"must be at most {MaxMetadataBytes} bytes of JSON")
        .CheckJsonText(field, metadata);

    /// <summary>Timeout: 1…604800 seconds.</summary>
    public static Validation CheckTimeout(this Validation v, int? timeout) =>
        v.When(timeout is < MinTimeoutSeconds or > MaxTimeoutSeconds, "timeout_seconds",
            $"must be between {MinTimeoutSeconds} and {MaxTimeoutSeconds}");

    /// <summary>
    /// Secrets: environment-variable names that are not reserved (<see cref="IsReservedSecretName"/>), bounded count
    /// and size, values without U+0000 (an environment variable cannot hold it). Problems go under <c>secrets</c>, each naming its key.
    /// </summary>
    public static Validation CheckSecrets(this Validation v, Dictionary<string, string>? secrets)
    {
        if (secrets is null)
        {
            return v;
        }
        v.When(secrets.Count > MaxSecrets, "secrets", $"must have at most {MaxSecrets} entries");
        foreach (var (key, value) in secrets)
        {
            if (!SecretNamePattern().IsMatch(key))
            {
                v.Add("secrets", $"key '{Printable(key)}' must match [A-Za-z_][A-Za-z0-9_]* (at most 128 characters)");
                continue;
            }
            v.When(IsReservedSecretName(key), "secrets", $"key '{Shorten(key)}' is reserved by the platform (see the README, \"Reserved secret names\")");
            v.When(value is null, "secrets", $"value of '{Shorten(key)}' must be a string");
            v.When(value is { Length: > MaxSecretValueLength }, "secrets", $"value of '{Shorten(key)}' must be at most {MaxSecretValueLength} characters");
            if (value is not null && TextRules.Problem(value) is { } problem)
            {
                v.Add("secrets", $"value of '{Shorten(key)}' {problem}");
            }
        }
        return v;
    }

    /// <summary>Instructions and setup: at most 100,000 characters each.</summary>
    public static Validation CheckScript(this Validation v, string field, string? text) => v
        .When(text is { Length: > MaxScriptLength }, field, $"must be at most {MaxScriptLength} characters")
        .CheckText(field, text);

    /// <summary>Message content (or a prompt): 1…100,000 characters.</summary>
    public static Validation CheckContent(this Validation v, string field, string? content, bool required) => v
        .When(required && string.IsNullOrEmpty(content), field, "is required and must not be empty")
        .When(!required && content is { Length: 0 }, field, "must not be empty")
        .When(content is { Length: > MaxContentLength }, field, $"must be at most {MaxContentLength} characters")
        .CheckText(field, content);

    private static string Shorten(string key) => key.Length <= 40 ? key : key[..40] + "…";

    // A refused key may hold control characters; the message shows them as escapes.
    private static string Printable(string key) => string.Concat(Shorten(key).Select(c => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
