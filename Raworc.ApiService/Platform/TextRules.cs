using System.Text.Json.Nodes;

namespace Raworc.ApiService.Platform;

/// <summary>
/// What the database can store. Postgres refuses U+0000 in <c>text</c> ("invalid byte sequence") and the
/// <c>\u0000</c> escape in <c>jsonb</c>, and the wire encoding (UTF-8) cannot carry an unpaired surrogate; every
/// other character is storable. A value with either is a 422 naming its field, found before any database work.
/// </summary>
public static class TextRules
{
    /// <summary>The problem reported for a value holding U+0000.</summary>
    public const string NulProblem = "must not contain the NUL character (U+0000)";

    /// <summary>The problem reported for a value holding an unpaired UTF-16 surrogate.</summary>
    public const string SurrogateProblem = "must not contain an unpaired surrogate (it is not valid Unicode text)";

    /// <summary>The reason <paramref name="text"/> cannot be stored (<see cref="NulProblem"/> or <see cref="SurrogateProblem"/>), or null when it can.</summary>
    public static string? Problem(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                return NulProblem;
            }
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return SurrogateProblem;
            }
        }
        return null;
    }

    /// <summary>True when <paramref name="text"/> can be stored and looked up.</summary>
    public static bool IsStorable(string text) => Problem(text) is null;

    /// <summary>Records a problem with <paramref name="field"/> when <paramref name="text"/> cannot be stored.</summary>
    public static Validation CheckText(this Validation v, string field, string? text) =>
        text is not null && Problem(text) is { } problem ? v.Add(field, problem) : v;

    /// <summary>
    /// Records a problem with <paramref name="field"/> when any property name or string value inside
    /// <paramref name="json"/> cannot be stored (jsonb refuses <c>\u0000</c> anywhere in a document).
    /// </summary>
    public static Validation CheckJsonText(this Validation v, string field, JsonNode? json) =>
        json is not null && JsonProblem(json) is { } problem ? v.Add(field, problem) : v;

    private static string? JsonProblem(JsonNode node) => node switch
    {
        JsonObject o => o.Select(p => Problem(p.Key) ?? (p.Value is null ? null : JsonProblem(p.Value))).FirstOrDefault(p => p is not null),
        JsonArray a => a.Select(e => e is null ? null : JsonProblem(e)).FirstOrDefault(p => p is not null),
        JsonValue value when value.TryGetValue<string>(out var text) => Problem(text),
        _ => null,
    };
}
