using Microsoft.AspNetCore.Http.HttpResults;
using Raworc.ApiService.Errors;

namespace Raworc.ApiService.Sessions;

/// <summary>What applying an event to a session did.</summary>
public enum TransitionOutcome
{
    /// <summary>The state changed (or, for an event that keeps it, the activity was recorded); the work and message committed.</summary>
    Applied,

    /// <summary>The session does not exist (deleted meanwhile).</summary>
    Gone,

    /// <summary>The transition table forbids the event in the session's state, or the state kept changing under it.</summary>
    NotAllowed,

    /// <summary>A restore would pass a quota of live sessions (<see cref="SessionQuotas"/>); nothing was written.</summary>
    OverQuota,
}

/// <summary>
/// The result of <see cref="SessionTransitions.ApplyAsync"/>: background services switch on <see cref="Outcome"/>, endpoints
/// answer <see cref="ToHttp"/> (200 with the session, 404 or 409 in the error envelope).
/// </summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Session">The session after the transition; set only when <see cref="TransitionOutcome.Applied"/>.</param>
/// <param name="Reason">Why not, in the user's words (names the state or the quota); null when applied.</param>
public sealed record TransitionResult(TransitionOutcome Outcome, Session? Session, string? Reason)
{
    /// <summary>True when the transition happened.</summary>
    public bool IsApplied => Outcome == TransitionOutcome.Applied;

    /// <summary>The session after an applied transition.</summary>
    /// <exception cref="InvalidOperationException">The transition did not happen.</exception>
    public Session Applied => Session ?? throw new InvalidOperationException($"The transition was not applied: {Outcome}.");

    /// <summary>The HTTP answer: 200 with the session, 404 <c>NOT_FOUND</c>, or 409 <c>CONFLICT</c> with <see cref="Reason"/>.</summary>
    public Results<Ok<SessionResponse>, NotFound<ErrorResponse>, Conflict<ErrorResponse>> ToHttp() => Outcome switch
    {
        TransitionOutcome.Applied => TypedResults.Ok(SessionResponse.From(Applied)),
        TransitionOutcome.Gone => ApiErrors.NotFound(Reason!),
        _ => ApiErrors.Conflict(Reason!),
    };

    /// <summary><see cref="ToHttp"/> for an endpoint that also answers 422 <c>VALIDATION_ERROR</c> (never produced here).</summary>
    public Results<Ok<SessionResponse>, NotFound<ErrorResponse>, Conflict<ErrorResponse>, UnprocessableEntity<ErrorResponse>> ToHttpOrInvalid() =>
        Outcome switch
        {
            TransitionOutcome.Applied => TypedResults.Ok(SessionResponse.From(Applied)),
            TransitionOutcome.Gone => ApiErrors.NotFound(Reason!),
            _ => ApiErrors.Conflict(Reason!),
        };

    internal static TransitionResult Done(Session session) => new(TransitionOutcome.Applied, session, null);

    internal static TransitionResult NotFound() => new(TransitionOutcome.Gone, null, "Session not found.");

    internal static TransitionResult Refused(TransitionOutcome outcome, string reason) => new(outcome, null, reason);
}
