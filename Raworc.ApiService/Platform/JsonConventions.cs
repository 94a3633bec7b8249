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
/// A request body's field holds a value its contract refuses, said in the contract's words (the field's wire name and
/// what it must be). <see cref="Errors.ApiExceptionHandler"/> answers it as a 400 with <see cref="Exception.Message"/>.
/// </summary>
/// <param name="message">A sentence safe to show to the caller.</param>
public sealed class JsonFieldException(string message) : JsonException(message);

/// <summary>
/// Reads a JSON object field (<c>metadata</c>) like the built-in converter, except that a string the reader cannot
/// decode (an unpaired surrogate escape such as <c>"\ud800"</c>) or a key given twice in one object, at any depth, is a
/// <see cref="JsonFieldException"/>, so the request is a 400 like the same fault in any other field, instead of an
/// unexpected failure or a silently dropped value.
/// </summary>
public sealed class StrictJsonObjectConverter : JsonConverter<JsonObject>
{
    /// <inheritdoc />
    public override JsonObject Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonFieldException($"Field '{FieldName(options)}' must be a JSON object.");
        }
        var node = JsonNode.Parse(ref reader)!.AsObject();
        try
        {
            // Nodes decode their strings and index their keys lazily; walking decodes every name and value now, while binding.
            Visit(node);
            return node;
        }
        catch (ArgumentException)
        {
            throw new JsonFieldException($"Field '{FieldName(options)}' has a key given twice in one object.");
        }
        catch (InvalidOperationException)
        {
            throw new JsonFieldException($"Field '{FieldName(options)}' holds a string that is not valid Unicode text (an unpaired surrogate).");
        }
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, JsonObject value, JsonSerializerOptions options) => value.WriteTo(writer, options);

    // The converter does not learn the property it reads; every JsonObject field of the contract is named metadata.
    private static string FieldName(JsonSerializerOptions options) => options.PropertyNamingPolicy?.ConvertName("Metadata") ?? "metadata";

    private static void Visit(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, value) in obj)
                {
                    Visit(value);
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Visit(item);
                }
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                _ = value.GetValue<string>();
                break;
        }
    }
}

/// <summary>
/// The JSON settings of the wire: snake_case names, contract timestamps; in request bodies an unknown field or a field
/// given twice is refused (a 400 naming it), never ignored.
/// </summary>
public static class JsonConventions
{
    /// <summary>Applies the wire conventions to the API's serializer options.</summary>
    public static void Apply(JsonSerializerOptions options)
    {
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.AllowDuplicateProperties = false;
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.Converters.Add(new UtcTimestampConverter());
        options.Converters.Add(new StrictJsonObjectConverter());
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
    }
}
