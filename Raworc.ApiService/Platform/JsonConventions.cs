using System.Globalization;
using System.Text.Json;
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

/// <summary>The JSON settings of the wire: snake_case names, contract timestamps, unknown fields ignored.</summary>
public static class JsonConventions
{
    /// <summary>Applies the wire conventions to serializer options (used by the API and by tests' clients).</summary>
    public static void Apply(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.Converters.Add(new UtcTimestampConverter());
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
    }
}
