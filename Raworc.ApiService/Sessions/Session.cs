namespace Raworc.ApiService.Sessions;

/// <summary>A session: one dedicated computer and its Host, with history (table <c>sessions</c>).</summary>
public sealed class Session
{
    /// <summary>
    /// UUID (version 7, so ids sort roughly by creation; a session that took a warm computer has the id reserved when that
    /// computer was started, a little earlier).
    /// </summary>
    public Guid Id { get; set; }

    /// <summary>Optional unique name (see <see cref="SessionRules"/>).</summary>
    public string? Name { get; set; }

    /// <summary>Owner's principal name (wire <c>created_by</c>).</summary>
    public required string CreatedBy { get; set; }

    /// <summary>Owner's principal type (<c>Operator</c> or <c>User</c>): a user and an operator of the same name are different owners.</summary>
    public required string CreatedByType { get; set; }

    /// <summary>
    /// For a session an operator created: that operator's row id, which is what ownership is checked against (the name in
    /// <see cref="CreatedBy"/> is only shown), so an operator created later under a deleted one's name owns none of its
    /// sessions. Null for a <c>User</c>'s session, whose owner exists only in tokens and is its name.
    /// </summary>
    public Guid? CreatedByOperatorId { get; set; }

    /// <summary>One of <see cref="SessionStates"/>.</summary>
    public required string State { get; set; }

    /// <summary>Id of the running container, when there is one.</summary>
    public string? ContainerId { get; set; }

    /// <summary>Name of the session's volume, once created.</summary>
    public string? PersistentVolumeId { get; set; }

    /// <summary>The session this one was remixed from.</summary>
    public Guid? ParentSessionId { get; set; }

    /// <summary>Creation time (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the current computer became ready (UTC).</summary>
    public DateTimeOffset? StartedAt { get; set; }

    /// <summary>
    /// When an agent of this session first reported ready (UTC), kept for the session's life (the state history is pruned):
    /// null while no computer of the session has ever finished its boot, so its volume may never have received the seed
    /// files, and a cold start asks for them again (<c>RAWORC_SEED_VOLUME</c>). Internal, not on the wire.
    /// </summary>
    public DateTimeOffset? FirstReadyAt { get; set; }

    /// <summary>Last message or state change (UTC).</summary>
    public DateTimeOffset LastActivityAt { get; set; }

    /// <summary>When the session was last closed (UTC).</summary>
    public DateTimeOffset? ClosedAt { get; set; }

    /// <summary>Caller's JSON object (jsonb), at most 64 KiB.</summary>
    public string Metadata { get; set; } = "{}";

    /// <summary>Readable by anyone (published view) while true.</summary>
    public bool IsPublished { get; set; }

    /// <summary>When it was last published (UTC).</summary>
    public DateTimeOffset? PublishedAt { get; set; }

    /// <summary>Who published it.</summary>
    public string? PublishedBy { get; set; }

    /// <summary>Remixers of the published session may copy <c>data/</c>.</summary>
    public bool PublishData { get; set; } = true;

    /// <summary>Remixers of the published session may copy <c>code/</c>.</summary>
    public bool PublishCode { get; set; } = true;

    /// <summary>Remixers of the published session may copy <c>secrets/</c>.</summary>
    public bool PublishSecrets { get; set; }

    /// <summary>Idle time after which the session closes itself, seconds (1…604800).</summary>
    public int TimeoutSeconds { get; set; } = SessionRules.DefaultTimeoutSeconds;

    /// <summary>When an idle session will close itself (UTC); null unless idle.</summary>
    public DateTimeOffset? AutoCloseAt { get; set; }

    /// <summary>While <c>init</c> with a started computer: when the agent must have reported ready (UTC).</summary>
    public DateTimeOffset? ReadyDeadlineAt { get; set; }

    /// <summary>Short human reason while <c>errored</c>.</summary>
    public string? Error { get; set; }

    /// <summary>Text appended to the agent's system prompt (<c>code/instructions.md</c>); never returned.</summary>
    public string? Instructions { get; set; }

    /// <summary>Shell script run at every computer start (<c>code/setup.sh</c>); never returned.</summary>
    public string? Setup { get; set; }

    /// <summary>The secrets (name → value) as JSON, encrypted with Data Protection; never returned.</summary>
    public string? ProtectedSecrets { get; set; }

    /// <summary>Names of the secrets (not their values), so the agent knows what to redact.</summary>
    public string[] SecretNames { get; set; } = [];

    /// <summary>
    /// Counts the starts of the session's computer: raised by every transition into <c>init</c> and by every close or
    /// error, and written into the Host token of each start (claim <c>start</c>). A Host token whose start is not the
    /// current one is refused, so an agent of an earlier start can never change the session.
    /// </summary>
    public int ComputerStart { get; set; }

    /// <summary>
    /// SHA-256 of the boot ticket of the current start (32 bytes), set just before that start's computer starts and cleared
    /// by its one exchange (<c>POST /api/v0/boot</c>, see <see cref="Computers.BootApi"/>); null when there is none left to
    /// exchange. The ticket itself is never stored.
    /// </summary>
    public byte[]? BootTicketHash { get; set; }

    /// <summary>
    /// The session's computer runs a desktop (virtual X display, window manager, browser) and its Host has the
    /// <c>computer</c> tool; chosen at creation (<c>"desktop"</c>, default <c>Computers:Desktop</c>) and kept for every start.
    /// </summary>
    public bool Desktop { get; set; }

    /// <summary>Model calls the Host made through the model gateway, over the session's whole life.</summary>
    public long UsageModelCalls { get; set; }

    /// <summary>Input (prompt) tokens the provider reported for those calls.</summary>
    public long UsageInputTokens { get; set; }

    /// <summary>Output (completion) tokens the provider reported for those calls.</summary>
    public long UsageOutputTokens { get; set; }
}

/// <summary>The session states of the contract.</summary>
public static class SessionStates
{
    /// <summary>Computer being created, agent starting.</summary>
    public const string Init = "init";
    /// <summary>Ready; idle timer running.</summary>
    public const string Idle = "idle";
    /// <summary>Agent working; timer paused.</summary>
    public const string Busy = "busy";
    /// <summary>Computer stopped; files and history kept.</summary>
    public const string Closed = "closed";
    /// <summary>Computer could not start or died.</summary>
    public const string Errored = "errored";

    /// <summary>Every state.</summary>
    public static readonly string[] All = [Init, Idle, Busy, Closed, Errored];
}
