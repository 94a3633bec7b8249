using System.Text.Json.Serialization;

namespace Raworc.HostAgent.Api;

/// <summary>The API's JSON (snake_case), source-generated so the agent also works when published trimmed.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(List<SessionMessage>))]
[JsonSerializable(typeof(SessionMessage))]
[JsonSerializable(typeof(NewMessage))]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(PoolHandover))]
internal sealed partial class ApiJson : JsonSerializerContext;

/// <summary>The API's error envelope: <c>{"error":{"code","message"}}</c>.</summary>
/// <param name="Error">The error.</param>
internal sealed record ApiError(ApiErrorBody? Error);

/// <summary>The inside of the error envelope.</summary>
/// <param name="Code">E.g. <c>CONFLICT</c>.</param>
/// <param name="Message">A readable reason.</param>
internal sealed record ApiErrorBody(string? Code, string? Message);
