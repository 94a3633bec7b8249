using System.Text.Json.Nodes;

namespace Raworc.ApiService.Sessions;

/// <summary>Which of a session's folders a remix may copy (wire <c>publish_permissions</c>).</summary>
/// <param name="Data">The <c>data/</c> folder.</param>
/// <param name="Code">The <c>code/</c> folder.</param>
/// <param name="Secrets">The <c>secrets/</c> folder and the secrets themselves.</param>
public sealed record PublishPermissions(bool Data, bool Code, bool Secrets);

/// <summary>
/// What a session's Host has used of its model through the model gateway, over the session's whole life
/// (wire <c>usage</c>: <c>{"model_calls","input_tokens","output_tokens"}</c>).
/// </summary>
/// <param name="ModelCalls">Calls the provider answered with a 2xx status.</param>
/// <param name="InputTokens">Input (prompt) tokens the provider reported for them.</param>
/// <param name="OutputTokens">Output (completion) tokens the provider reported for them.</param>
public sealed record SessionUsage(long ModelCalls, long InputTokens, long OutputTokens);

/// <summary>A session on the wire. Secrets, instructions and setup are never part of it.</summary>
public sealed record SessionResponse(
    Guid Id, string? Name, string CreatedBy, string State, string? ContainerId, string? PersistentVolumeId,
    Guid? ParentSessionId, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset LastActivityAt,
    DateTimeOffset? ClosedAt, JsonNode? Metadata, bool IsPublished, DateTimeOffset? PublishedAt, string? PublishedBy,
    PublishPermissions PublishPermissions, int TimeoutSeconds, DateTimeOffset? AutoCloseAt, string? Error, SessionUsage Usage,
    bool Desktop)
{
    /// <summary>The wire shape of a loaded session.</summary>
    public static SessionResponse From(Session s) => new(
        s.Id, s.Name, s.CreatedBy, s.State, s.ContainerId, s.PersistentVolumeId, s.ParentSessionId, s.CreatedAt,
        s.StartedAt, s.LastActivityAt, s.ClosedAt, JsonNode.Parse(s.Metadata), s.IsPublished, s.PublishedAt,
        s.PublishedBy, new PublishPermissions(s.PublishData, s.PublishCode, s.PublishSecrets), s.TimeoutSeconds,
        s.AutoCloseAt, s.State == SessionStates.Errored ? s.Error : null,
        new SessionUsage(s.UsageModelCalls, s.UsageInputTokens, s.UsageOutputTokens), s.Desktop);
}

/// <summary>The published view: never container or volume ids.</summary>
public sealed record PublishedSessionResponse(
    Guid Id, string? Name, string CreatedBy, string State, DateTimeOffset CreatedAt, DateTimeOffset? PublishedAt,
    string? PublishedBy, PublishPermissions PublishPermissions, JsonNode? Metadata)
{
    /// <summary>The published view of a loaded session.</summary>
    public static PublishedSessionResponse From(Session s) => new(
        s.Id, s.Name, s.CreatedBy, s.State, s.CreatedAt, s.PublishedAt, s.PublishedBy,
        new PublishPermissions(s.PublishData, s.PublishCode, s.PublishSecrets), JsonNode.Parse(s.Metadata));
}

/// <summary>Body of <c>POST /sessions</c>; every field optional.</summary>
/// <param name="Name">Unique name (see <see cref="SessionRules"/>).</param>
/// <param name="Metadata">JSON object, at most 64 KiB.</param>
/// <param name="Secrets">Environment-variable name → value; stored encrypted, never returned.</param>
/// <param name="Instructions">Appended to the agent's system prompt.</param>
/// <param name="Setup">Shell script run at every computer start.</param>
/// <param name="Prompt">A first user message.</param>
/// <param name="TimeoutSeconds">Idle timeout, 1…604800 (default 300).</param>
/// <param name="Desktop">Give the computer a desktop and the Host its <c>computer</c> tool (default <c>Computers:Desktop</c>, false).</param>
public sealed record CreateSessionRequest(string? Name, JsonObject? Metadata, Dictionary<string, string>? Secrets,
    string? Instructions, string? Setup, string? Prompt, int? TimeoutSeconds, bool? Desktop = null);

/// <summary>Body of <c>PUT /sessions/{id}</c>; at least one field.</summary>
public sealed record UpdateSessionRequest(string? Name, JsonObject? Metadata, int? TimeoutSeconds);

/// <summary>Body of <c>PUT /sessions/{id}/state</c>.</summary>
/// <param name="State"><c>closed</c> (close), <c>init</c> (restore), <c>idle</c> or <c>busy</c>.</param>
public sealed record ChangeStateRequest(string? State);

/// <summary>Body of <c>POST /sessions/{id}/restore</c>.</summary>
/// <param name="Prompt">Optional user message to post once restored.</param>
public sealed record RestoreRequest(string? Prompt);

/// <summary>Body of <c>POST /sessions/{id}/remix</c>.</summary>
/// <param name="Name">Name of the new session.</param>
/// <param name="Metadata">Metadata of the new session (the parent's when absent).</param>
/// <param name="Data">Copy <c>data/</c>.</param>
/// <param name="Code">Copy <c>code/</c>.</param>
/// <param name="Secrets">Copy the secrets.</param>
/// <param name="Prompt">A first user message for the new session.</param>
/// <param name="Desktop">Give the new session's computer a desktop (default: as the parent).</param>
public sealed record RemixRequest(string? Name, JsonObject? Metadata, bool? Data, bool? Code, bool? Secrets, string? Prompt,
    bool? Desktop = null);

/// <summary>Body of <c>POST /sessions/{id}/publish</c> (defaults: data and code yes, secrets no).</summary>
public sealed record PublishRequest(bool? Data, bool? Code, bool? Secrets);

/// <summary>
/// The optional body of <c>POST /sessions/{id}/idle</c>. Only the session's Host sends one, with its ready report; an empty
/// body is the same as <c>{}</c>.
/// </summary>
/// <param name="Setup">
/// How <c>code/setup.sh</c> ended at this computer start, read by the agent from <c>/session/logs/setup.status</c>; null:
/// the API reads that file itself (an agent of an earlier image).
/// </param>
public sealed record MarkIdleRequest(SetupOutcome? Setup);
