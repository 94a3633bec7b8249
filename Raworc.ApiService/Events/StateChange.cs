namespace Raworc.ApiService.Events;

/// <summary>
/// One state change of a session (table <c>state_changes</c>), written in the transaction of the change itself, so the
/// event stream replays exactly what happened. Its <see cref="Seq"/> is drawn from the same sequence as
/// <see cref="Messages.Message.Seq"/> and, like a message's, under the session's row lock: within a session the two
/// together are one strictly increasing order, committed in that order. Deleted with its session, or earlier by
/// <see cref="StateChangePruner"/> once a later change superseded it before the retention window.
/// </summary>
public sealed class StateChange
{
    /// <summary>Position in the session's event order (shared with messages; database-assigned).</summary>
    public long Seq { get; set; }

    /// <summary>The session that changed.</summary>
    public Guid SessionId { get; set; }

    /// <summary>The new state (one of <see cref="Sessions.SessionStates"/>).</summary>
    public required string State { get; set; }

    /// <summary>
    /// The session as <c>GET /sessions/{id}</c> showed it right after the change (wire JSON, kept as written): the <c>data</c> of
    /// the <c>state</c> event.
    /// </summary>
    public required string Session { get; set; }

    /// <summary>When the change happened (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }
}
