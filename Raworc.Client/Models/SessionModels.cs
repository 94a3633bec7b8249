using System.Text.Json.Nodes;

namespace Raworc.Client.Models;

/// <summary>Session states of the contract (<c>init</c> → <c>idle</c> ⇄ <c>busy</c>; <c>closed</c>, <c>errored</c>).</summary>
public static class SessionStates
{
    /// <summary>Computer being created, agent starting.</summary>
    public const string Init = "init";
    /// <summary>Ready; the idle timer runs.</summary>
    public const string Idle = "idle";
    /// <summary>The Host is working on a turn.</summary>
    public const string Busy = "busy";
    /// <summary>Computer stopped; files and history kept; a message restores it.</summary>
    public const string Closed = "closed";
    /// <summary>The computer could not start or died; <see cref="Session.Error"/> says why.</summary>
    public const string Errored = "errored";
}

/// <summary>Which of a session's folders a remix may copy (wire <c>publish_permissions</c>).</summary>
/// <param name="Data">The <c>data/</c> folder.</param>
/// <param name="Code">The <c>code/</c> folder.</param>
/// <param name="Secrets">The secrets.</param>
public sealed record PublishPermissions(bool Data, bool Code, bool Secrets);

/// <summary>The model use of a session's Host through the model gateway, over the session's life.</summary>
/// <param name="ModelCalls">Calls the provider answered 2xx.</param>
/// <param name="InputTokens">Input tokens the provider reported.</param>
/// <param name="OutputTokens">Output tokens the provider reported.</param>
public sealed record SessionUsage(long ModelCalls, long InputTokens, long OutputTokens);

/// <summary>A session (<c>GET /sessions/{id}</c>). Secrets, instructions and setup are never part of it.</summary>
/// <param name="Id">Session UUID.</param>
/// <param name="Name">Unique name, or null.</param>
/// <param name="CreatedBy">Owner's principal name.</param>
/// <param name="State">One of <see cref="SessionStates"/>.</param>
/// <param name="ContainerId">The computer's container, while it has one.</param>
/// <param name="PersistentVolumeId">The session's volume.</param>
/// <param name="ParentSessionId">The session it was remixed from.</param>
/// <param name="CreatedAt">Creation (UTC).</param>
/// <param name="StartedAt">When the current computer's agent reported ready.</param>
/// <param name="LastActivityAt">Last message or state change.</param>
/// <param name="ClosedAt">When it was last closed.</param>
/// <param name="Metadata">The caller's JSON object.</param>
/// <param name="IsPublished">Whether anyone may read it.</param>
/// <param name="PublishedAt">When it was published.</param>
/// <param name="PublishedBy">Who published it.</param>
/// <param name="PublishPermissions">What a remix of the published session may copy.</param>
/// <param name="TimeoutSeconds">Idle timeout, seconds.</param>
/// <param name="AutoCloseAt">While idle: when it closes by itself.</param>
/// <param name="Error">While <c>errored</c>: a short reason; otherwise null.</param>
/// <param name="Usage">Model use so far (null from servers that do not report it).</param>
public sealed record Session(
    Guid Id, string? Name, string CreatedBy, string State, string? ContainerId, string? PersistentVolumeId,
    Guid? ParentSessionId, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? LastActivityAt,
    DateTimeOffset? ClosedAt, JsonNode? Metadata, bool IsPublished, DateTimeOffset? PublishedAt, string? PublishedBy,
    PublishPermissions? PublishPermissions, int TimeoutSeconds, DateTimeOffset? AutoCloseAt, string? Error, SessionUsage? Usage);

/// <summary>Body of <c>POST /sessions</c>; every field optional (null fields are not sent).</summary>
/// <param name="Name">Unique name: 1–100 ASCII letters, digits and <c>-</c>, starting with a letter or digit, not a UUID.</param>
/// <param name="Metadata">JSON object, at most 64 KiB.</param>
/// <param name="Secrets">Environment-variable name → value; stored encrypted, never returned.</param>
/// <param name="Instructions">Appended to the Host's system prompt.</param>
/// <param name="Setup">Shell script run at every computer start.</param>
/// <param name="Prompt">A first user message.</param>
/// <param name="TimeoutSeconds">Idle timeout, 1…604800 (server default 300).</param>
public sealed record CreateSessionRequest(
    string? Name = null, JsonObject? Metadata = null, Dictionary<string, string>? Secrets = null,
    string? Instructions = null, string? Setup = null, string? Prompt = null, int? TimeoutSeconds = null);

/// <summary>Body of <c>POST /sessions/{id}/restore</c>.</summary>
/// <param name="Prompt">A user message posted once restored, or null.</param>
internal sealed record RestoreBody(string? Prompt);

/// <summary>An empty JSON object body (<c>{}</c>) for actions that take none.</summary>
internal sealed record EmptyBody;

/// <summary>One page of a list endpoint.</summary>
/// <typeparam name="T">Item type.</typeparam>
/// <param name="Items">The page, in the endpoint's order.</param>
/// <param name="Total">All items there are (<c>X-Total-Count</c>).</param>
/// <param name="Offset">Items skipped (<c>X-Page-Offset</c>).</param>
/// <param name="Limit">Page size asked for (<c>X-Page-Limit</c>).</param>
public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int Offset, int Limit);
