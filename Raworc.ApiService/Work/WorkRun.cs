namespace Raworc.ApiService.Work;

/// <summary>
/// One run of a work item (table <c>work_runs</c>): written in the statement that claims the item, finished in the one
/// that completes or gives it back. The queue deletes an item when it is done; its runs stay (for
/// <see cref="Computers.ComputerOptions.WorkRunRetentionDays"/>), so how often each item ran, on which replica, for how
/// long and with what outcome can be read afterwards. With one holder per lease, an item that ran once has one row.
/// </summary>
public sealed class WorkRun
{
    /// <summary>Increasing id.</summary>
    public long Id { get; set; }

    /// <summary>The item that ran (<see cref="WorkItem.Id"/>; no foreign key: the item is deleted when done).</summary>
    public long WorkItemId { get; set; }

    /// <summary>The session the work was for.</summary>
    public Guid SessionId { get; set; }

    /// <summary>One of <see cref="WorkKinds"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>The process that ran it: <see cref="ThisWorker"/> of that replica (<c>host:pid</c>).</summary>
    public required string Worker { get; set; }

    /// <summary>When the item was claimed (UTC).</summary>
    public DateTimeOffset StartedAt { get; set; }

    /// <summary>When the run ended (UTC); null while it runs, or forever when its process died holding it.</summary>
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>How it ended, one of <see cref="WorkRunOutcomes"/>; null while it runs (or when its process died).</summary>
    public string? Outcome { get; set; }

    /// <summary>This process as a worker: machine name and process id, <c>host:pid</c>.</summary>
    public static string ThisWorker { get; } = $"{Environment.MachineName}:{Environment.ProcessId}";
}

/// <summary>How a <see cref="WorkRun"/> ended.</summary>
public static class WorkRunOutcomes
{
    /// <summary>The work was done (or had nothing left to do); the item is gone.</summary>
    public const string Done = "done";
    /// <summary>A transient failure: the item is tried again after a backoff.</summary>
    public const string Retry = "retry";
    /// <summary>A lasting failure: the session errored (a close or delete is logged); the item is gone.</summary>
    public const string Failed = "failed";
    /// <summary>Given back unfinished because its process was shutting down; another run picks it up.</summary>
    public const string Released = "released";
    /// <summary>
    /// Abandoned because its lease could not be renewed in time (<see cref="Computers.ComputerOptions.WorkLeaseSeconds"/>:
    /// the database out of reach, the process stalled); the item was left to whichever worker claims it next.
    /// </summary>
    public const string Lost = "lost";
}
