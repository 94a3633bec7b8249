namespace Raworc.ApiService.Work;

/// <summary>
/// A unit of computer work for a session (table <c>work_items</c>), claimed by one worker with a lease
/// (<see cref="LeaseExpiresAt"/>, committed before any engine call). Items of one session run strictly in id order.
/// No foreign key: a delete item outlives its session row.
/// </summary>
public sealed class WorkItem
{
    /// <summary>Increasing id: the order of work.</summary>
    public long Id { get; set; }

    /// <summary>The session the work is for.</summary>
    public Guid SessionId { get; set; }

    /// <summary>One of <see cref="WorkKinds"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>Kind-specific JSON (remix: parent and parts).</summary>
    public string Payload { get; set; } = "{}";

    /// <summary>When it was queued (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Not to be tried before this time (UTC): backoff after a failure.</summary>
    public DateTimeOffset NotBefore { get; set; }

    /// <summary>Failed attempts so far.</summary>
    public int Attempts { get; set; }

    /// <summary>Reason of the last failed attempt.</summary>
    public string? LastError { get; set; }

    /// <summary>
    /// While a worker holds the item: when its lease ends (UTC). A worker that died (process killed, machine gone)
    /// leaves the lease to run out, and another worker then takes the item again; every kind of work is safe to repeat.
    /// Null when no worker holds it.
    /// </summary>
    public DateTimeOffset? LeaseExpiresAt { get; set; }

    /// <summary>
    /// Set on the item <see cref="WorkQueue.ClaimAsync"/> returns (not stored in <c>work_items</c>): when this claim was
    /// made (UTC, whole microseconds), which is its run's <see cref="WorkRun.StartedAt"/>. It tells this claim's run from
    /// another this same process made of the item after the first claim's lease ran out.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Schema.NotMapped]
    public DateTimeOffset? ClaimedAt { get; set; }

    /// <summary>
    /// The W3C <c>traceparent</c> of the request that queued the work (at most 55 characters), or null when none was
    /// traced: the worker's span is a child of it, so the request's trace shows the engine calls made for it.
    /// </summary>
    public string? TraceParent { get; set; }
}

/// <summary>The kinds of computer work.</summary>
public static class WorkKinds
{
    /// <summary>Create volume and computer for a new session.</summary>
    public const string Create = "create";
    /// <summary>Start a new computer on the existing volume.</summary>
    public const string Restore = "restore";
    /// <summary>Stop and remove the computer; keep the volume.</summary>
    public const string Close = "close";
    /// <summary>Remove computer and volume.</summary>
    public const string Delete = "delete";
    /// <summary>Copy the parent's folders into a new volume, then start the computer.</summary>
    public const string Remix = "remix";
}

/// <summary>Payload of a <see cref="WorkKinds.Remix"/> item (JSON in <see cref="WorkItem.Payload"/>): where to copy from and which folders.</summary>
/// <param name="ParentSessionId">The session copied from.</param>
/// <param name="Data">Copy <c>data/</c>.</param>
/// <param name="Code">Copy <c>code/</c>.</param>
/// <param name="Secrets">Copy <c>secrets/</c>.</param>
public sealed record RemixPayload(Guid ParentSessionId, bool Data, bool Code, bool Secrets);
