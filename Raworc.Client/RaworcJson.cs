using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Raworc.Client.Models;

namespace Raworc.Client;

/// <summary>
/// The wire's JSON, source-generated (no reflection, trim- and AOT-safe): snake_case names; null fields are not sent,
/// because the API refuses unknown fields but treats absent ones as "not given"; unknown fields in answers are ignored,
/// so a newer server's additions do not break this client.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(VersionInfo))]
[JsonSerializable(typeof(LoginResult))]
[JsonSerializable(typeof(AuthInfo))]
[JsonSerializable(typeof(LoginBody))]
[JsonSerializable(typeof(ErrorEnvelope))]
[JsonSerializable(typeof(Session))]
[JsonSerializable(typeof(List<Session>))]
[JsonSerializable(typeof(CreateSessionRequest))]
[JsonSerializable(typeof(RestoreBody))]
[JsonSerializable(typeof(EmptyBody))]
[JsonSerializable(typeof(Message))]
[JsonSerializable(typeof(List<Message>))]
[JsonSerializable(typeof(PostMessageBody))]
[JsonSerializable(typeof(MessageCount))]
[JsonSerializable(typeof(SessionSignal))]
internal sealed partial class WireJson : JsonSerializerContext;

/// <summary>The client's JSON settings for callers that print or store the wire types (a CLI's <c>--json</c> output).</summary>
public static class RaworcJson
{
    /// <summary>The wire's options: snake_case, nulls left out, indented; resolves only the client's own types.</summary>
    public static JsonSerializerOptions Options => WireJson.Default.Options;

    /// <summary>Serializes a wire type (<see cref="Session"/>, <see cref="Message"/>, …) the way the API writes it, indented.</summary>
    /// <typeparam name="T">A type of <see cref="Raworc.Client.Models"/>.</typeparam>
    /// <param name="value">The value.</param>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, TypeInfo<T>());

    /// <summary>A wire type as a JSON tree (<see cref="JsonNode.ToJsonString"/> gives it on one line).</summary>
    /// <typeparam name="T">A type of <see cref="Raworc.Client.Models"/>.</typeparam>
    /// <param name="value">The value.</param>
    public static JsonNode? ToNode<T>(T value) => JsonSerializer.SerializeToNode(value, TypeInfo<T>());

    private static JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));
}
