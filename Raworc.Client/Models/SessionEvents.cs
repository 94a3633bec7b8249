namespace Raworc.Client.Models;

/// <summary>
/// One event of <c>GET /sessions/{id}/events</c> (server-sent events). <see cref="Id"/> is the stream's opaque,
/// increasing id; <see cref="SessionEventStream"/> sends the last one back as <c>Last-Event-ID</c> when it reconnects.
/// </summary>
/// <param name="Id">The event's <c>id:</c>, or null when it had none.</param>
public abstract record SessionEvent(string? Id);

/// <summary><c>event: message</c> — a message was stored (user, host with tool activity, or system).</summary>
/// <param name="Id">Event id.</param>
/// <param name="Message">The message, as <c>GET /sessions/{id}/messages</c> shows it.</param>
public sealed record MessageEvent(string? Id, Message Message) : SessionEvent(Id);

/// <summary><c>event: state</c> — the session changed; <see cref="Session"/>'s state is the new one.</summary>
/// <param name="Id">Event id.</param>
/// <param name="Session">The session after the change.</param>
public sealed record StateEvent(string? Id, Session Session) : SessionEvent(Id);

/// <summary><c>event: screen</c> — the desktop's screen changed (live only, not replayed on resume).</summary>
/// <param name="Id">The id of the message that caused it.</param>
/// <param name="SessionId">The session.</param>
/// <param name="At">When (UTC).</param>
public sealed record ScreenEvent(string? Id, Guid SessionId, DateTimeOffset At) : SessionEvent(Id);

/// <summary><c>event: deleted</c> — the session was deleted; the stream ends after it.</summary>
/// <param name="Id">Event id.</param>
/// <param name="SessionId">The deleted session.</param>
public sealed record DeletedEvent(string? Id, Guid SessionId) : SessionEvent(Id);

/// <summary>Data of <c>screen</c> and <c>deleted</c> events.</summary>
internal sealed record SessionSignal(Guid SessionId, DateTimeOffset? At);
