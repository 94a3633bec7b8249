using System.Text.Json.Nodes;

namespace Raworc.HostAgent.Turns;

/// <summary>
/// Replaces each secret value with <c>[REDACTED]</c>. Values shorter than <see cref="MinimumLength"/> characters
/// are ignored (redacting "a" would shred every text); longer values are replaced first so overlaps stay hidden.
/// </summary>
public sealed class Redactor
{
    /// <summary>The replacement text.</summary>
    public const string Mask = "[REDACTED]";

    /// <summary>Secrets shorter than this are not redacted.</summary>
    public const int MinimumLength = 4;

    private readonly string[] _secrets;

    /// <summary>Creates a redactor for the given secret values (duplicates and blanks are dropped).</summary>
    public Redactor(IEnumerable<string?> secrets) =>
        _secrets = [.. secrets.OfType<string>().Where(s => s.Trim().Length >= MinimumLength).Distinct().OrderByDescending(s => s.Length)];

    /// <summary>The secret values, longest first.</summary>
    public IReadOnlyList<string> Secrets => _secrets;

    /// <summary>A redactor that changes nothing.</summary>
    public static Redactor None { get; } = new([]);

    /// <summary>The text with every secret value replaced.</summary>
    public string Redact(string text)
    {
        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }

        return text;
    }

    /// <summary>A deep copy of <paramref name="node"/> with every string value and property name redacted.</summary>
    public JsonNode? Redact(JsonNode? node) => node switch
    {
        null => null,
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(Redact(p.Key), Redact(p.Value)))),
        JsonArray array => new JsonArray([.. array.Select(Redact)]),
        JsonValue value when value.TryGetValue<string>(out var text) => JsonValue.Create(Redact(text)),
        _ => node.DeepClone(),
    };

    /// <summary>Reads the secret values from the environment: the variables named, comma separated, in <c>RAWORC_SECRET_NAMES</c>.</summary>
    public static Redactor FromEnvironment(AgentEnvironment configuration)
    {
        var names = (configuration[HostAgentVariables.SecretNames] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new Redactor(names.Select(name => configuration[name]));
    }
}
