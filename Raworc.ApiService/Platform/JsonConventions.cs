using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Raworc.ApiService.Platform;

/// <summary>
/// Writes timestamps as the contract asks: UTC, RFC 3339, millisecond precision, <c>Z</c> suffix
/// (<c>2025-01-01T00:00:00.000Z</c>). Reads any ISO 8601 timestamp.
/// </summary>
public sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    /// <summary>The output format.</summary>
    public const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    /// <inheritdoc />
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture));
}

/// <summary>
/// Reads a JSON object field (<c>metadata</c>) like the built-in converter, except that a string the reader cannot
/// decode (an unpaired surrogate escape such as <c>"\ud800"</c>) is a <see cref="JsonException"/>, so the request is a
/// 400 like the same string in any other field, instead of an unexpected failure.
/// </summary>
public sealed class StrictJsonObjectConverter : JsonConverter<JsonObject>
{
    /// <inheritdoc />
    public override JsonObject Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A JSON object was expected.");
        }
        var node = JsonNode.Parse(ref reader)!.AsObject();
        try
        {
            // Nodes decode their strings lazily; writing them once decodes every name and value now, while binding.
            using var writer = new Utf8JsonWriter(Stream.Null);
            node.WriteTo(writer);
            return node;
        }
        catch (InvalidOperationException ex)
        {
            throw new JsonException("A string is not valid UTF-16 text.", ex);
        }
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, JsonObject value, JsonSerializerOptions options) => value.WriteTo(writer, options);
}

/// <summary>The JSON settings of the wire: snake_case names, contract timestamps, unknown fields ignored.</summary>
public static class JsonConventions
{
    /// <summary>Applies the wire conventions to serializer options (used by the API and by tests' clients).</summary>
    public static void Apply(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.Converters.Add(new UtcTimestampConverter());
        options.Converters.Add(new StrictJsonObjectConverter());
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
    }
}
