namespace Raworc.ApiService.Sessions;

/// <summary>The events that move a session between states (spec/API.md, "Allowed transitions").</summary>
public enum SessionEvent
{
    /// <summary><c>POST /close</c>: init, idle, busy, errored → closed.</summary>
    Close,
    /// <summary>The idle deadline passed: idle → closed.</summary>
    IdleDeadline,
    /// <summary><c>POST /restore</c>: closed, errored → init.</summary>
    Restore,
    /// <summary>A user message: closed, errored → init (auto-restore); idle → busy; init, busy unchanged.</summary>
    UserMessage,
    /// <summary><c>POST /busy</c> by the session's Host: idle → busy, busy → busy (its heartbeat).</summary>
    Busy,
    /// <summary><c>POST /idle</c>: busy → idle; for the session's Host also init → idle (agent ready).</summary>
    Idle,
    /// <summary>The computer could not start or died: init, idle, busy → errored.</summary>
    Failed,
    /// <summary>The computer is found gone with nothing in flight: idle, busy → closed.</summary>
    ComputerGone,
    /// <summary>Activity that changes no state (a Host message): touches <c>last_activity_at</c>.</summary>
    Touch,
    /// <summary>
    /// The session's Host reports ready (<c>POST /idle</c> from <c>init</c>) while user messages wait unanswered:
    /// init → busy, so a client waiting for <c>idle</c> never takes a restore for an answer.
    /// </summary>
    ReadyWithPendingMessages,
    /// <summary>
    /// A busy session's Host sent no heartbeat for <see cref="SessionOptions.BusyHeartbeatSeconds"/>: busy → idle, the
    /// turn ends with a <c>system</c> message (<see cref="TurnSweeper"/>).
    /// </summary>
    HeartbeatLost,
}

/// <summary>The transition table as a function.</summary>
public static class SessionTransitionTable
{
    /// <summary>The state <paramref name="event"/> leads to from <paramref name="state"/>, or null when not allowed.</summary>
    /// <param name="state">Current state.</param>
    /// <param name="event">The event.</param>
    /// <param name="byHost">True when the session's own Host agent caused the event.</param>
    public static string? Next(string state, SessionEvent @event, bool byHost) => (@event, state) switch
    {
        (SessionEvent.Close, SessionStates.Init or SessionStates.Idle or SessionStates.Busy or SessionStates.Errored) => SessionStates.Closed,
        (SessionEvent.IdleDeadline, SessionStates.Idle) => SessionStates.Closed,
        (SessionEvent.Restore, SessionStates.Closed or SessionStates.Errored) => SessionStates.Init,
        (SessionEvent.UserMessage, SessionStates.Closed or SessionStates.Errored) => SessionStates.Init,
        (SessionEvent.UserMessage, SessionStates.Idle) => SessionStates.Busy,
        (SessionEvent.UserMessage, SessionStates.Init or SessionStates.Busy) => state,
        (SessionEvent.Busy, SessionStates.Idle or SessionStates.Busy) when byHost => SessionStates.Busy,
        (SessionEvent.Idle, SessionStates.Busy) => SessionStates.Idle,
        (SessionEvent.Idle, SessionStates.Init) when byHost => SessionStates.Idle,
        (SessionEvent.ReadyWithPendingMessages, SessionStates.Init) when byHost => SessionStates.Busy,
        (SessionEvent.Failed, SessionStates.Init or SessionStates.Idle or SessionStates.Busy) => SessionStates.Errored,
        (SessionEvent.ComputerGone, SessionStates.Idle or SessionStates.Busy) => SessionStates.Closed,
        (SessionEvent.HeartbeatLost, SessionStates.Busy) => SessionStates.Idle,
        (SessionEvent.Touch, _) => state,
        _ => null,
    };

    /// <summary>What the event is called in a 409 message.</summary>
    public static string Verb(SessionEvent @event) => @event switch
    {
        SessionEvent.Close or SessionEvent.IdleDeadline or SessionEvent.ComputerGone => "close it",
        SessionEvent.Restore => "restore it",
        SessionEvent.Busy => "mark it busy",
        SessionEvent.Idle or SessionEvent.ReadyWithPendingMessages or SessionEvent.HeartbeatLost => "mark it idle",
        SessionEvent.Failed => "mark it errored",
        _ => "do this",
    };
}
