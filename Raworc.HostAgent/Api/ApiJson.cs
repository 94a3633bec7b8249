using System.Text.Json.Serialization;

namespace Raworc.HostAgent.Api;

/// <summary>The API's JSON (snake_case), source-generated so the agent also works when published trimmed.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(List<SessionMessage>))]
[JsonSerializable(typeof(SessionMessage))]
[JsonSerializable(typeof(NewMessage))]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(PoolHandover))]
[JsonSerializable(typeof(BootRequest))]
[JsonSerializable(typeof(ReadyReport))]
internal sealed partial class ApiJson : JsonSerializerContext;

/// <summary>The API's error envelope: <c>{"error":{"code","message"}}</c>.</summary>
/// <param name="Error">The error.</param>
internal sealed record ApiError(ApiErrorBody? Error);

/// <summary>The inside of the error envelope.</summary>
/// <param name="Code">E.g. <c>CONFLICT</c>.</param>
/// <param name="Message">A readable reason.</param>
internal sealed record ApiErrorBody(string? Code, string? Message);

/// <summary>The body of the agent's ready report (<c>POST …/idle</c> from <c>init</c>).</summary>
/// <param name="Setup">How <c>code/setup.sh</c> ended at this start; null when the status file could not be read.</param>
internal sealed record ReadyReport(SetupOutcome? Setup);
