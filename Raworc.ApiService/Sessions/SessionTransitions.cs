using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Events;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Redis;
using Raworc.ApiService.Webhooks;
using Raworc.ApiService.Work;

namespace Raworc.ApiService.Sessions;

/// <summary>
/// Moves sessions through their states race-free: each transition is one conditional statement
/// (<c>UPDATE sessions SET … WHERE id = @id AND state = @observed</c>); when a concurrent request changed
/// the state first, the update matches no row and the event is re-evaluated against the new state.
/// The queued work, any message of the event and, when the state changed, a <see cref="StateChange"/> row (the event
/// stream's <c>state</c> event, after the message) commit in the same transaction; Redis presence and the wake-up of
/// long-polls and event streams follow after the commit.
/// </summary>
public sealed partial class SessionTransitions(RaworcDbContext db, WorkQueue workQueue, SessionQuotas quotas, RedisStore presence,
    IOptions<SessionOptions> sessionOptions, IOptions<JsonOptions> json, TimeProvider clock)
{
    private const int MaxAttempts = 8;

    /// <summary>
    /// Applies <paramref name="event"/> to session <paramref name="sessionId"/>.
    /// </summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="event">What happened.</param>
    /// <param name="byHost">The session's own Host caused it.</param>
    /// <param name="message">A message committed with the transition (long-polls are woken after the commit); use <see cref="Messages.Conversation"/>.</param>
    /// <param name="error">The reason, for <see cref="SessionEvent.Failed"/>.</param>
    /// <param name="cancellationToken">Cancels the database work.</param>
    /// <param name="observedState">The state the caller has just read, if it has: the first attempt then skips reading it
    /// (a round trip) when the event is allowed from it; the conditional update still checks it, and a stale one only costs a retry.</param>
    /// <returns>
    /// Applied with the session after the transition; gone; not allowed (naming the state); or over a quota (a restore,
    /// <see cref="SessionQuotas"/>). Only an applied transition writes anything.
    /// </returns>
    public async Task<TransitionResult> ApplyAsync(Guid sessionId, SessionEvent @event, bool byHost = false,
        Message? message = null, string? error = null, CancellationToken cancellationToken = default, string? observedState = null)
    {
        // Each shorter write is tried once; each flag on its own, so that failing one (the state moved) still lets the
        // next attempt take another (a message that found the session idle and then busy is appended in one statement).
        var triedOneStatement = false;
        var triedStartTurn = false;
        var triedBeat = false;
        // Whether the owner has an enabled `session.message` webhook: read with the state once a one-statement append has
        // written nothing, which the state's move or such a webhook causes. Only the webhook sends the message down the
        // general path; after a move the append is tried in one statement again. (Before, a move sent it there too: each
        // turn's end, busy → idle under 32 posting clients, sent every post queued behind it through a whole transaction.)
        var messageWebhook = false;
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            string? observed;
            if (attempt == 0 && observedState is not null && SessionTransitionTable.Next(observedState, @event, byHost) is not null)
            {
                observed = observedState;
            }
            else if (triedOneStatement)
            {
                var read = await db.Sessions.AsNoTracking().Where(s => s.Id == sessionId)
                    .Select(s => new
                    {
                        s.State,
                        Hooked = db.Webhooks.Any(w => w.OperatorId == s.CreatedByOperatorId && w.Enabled && w.EventTypes.Contains(WebhookEventTypes.Message)),
                    })
                    .FirstOrDefaultAsync(cancellationToken);
                observed = read?.State;
                messageWebhook = read?.Hooked == true;
            }
            else
            {
                observed = await db.Sessions.AsNoTracking().Where(s => s.Id == sessionId).Select(s => s.State).FirstOrDefaultAsync(cancellationToken);
            }
            if (observed is null)
            {
                return TransitionResult.NotFound();
            }
            if (SessionTransitionTable.Next(observed, @event, byHost) is not { } next)
            {
                return TransitionResult.Refused(TransitionOutcome.NotAllowed,
                    $"The session is {observed}; cannot {SessionTransitionTable.Verb(@event)}.");
            }

            if (!messageWebhook && AppendsInOneStatement(message, observed, next))
            {
                // When it writes nothing (a webhook to feed, or the state moved) the next attempt reads which it was.
                triedOneStatement = true;
                if (await AppendInOneStatementAsync(sessionId, observed, owner: null, message!, cancellationToken) is { } appended)
                {
                    FollowInRedis(appended, queuedWork: false);
                    presence.PublishMessage(sessionId);
                    return TransitionResult.Done(appended);
                }
            }

            if (!triedStartTurn && StartsTurn(message, @event, observed, next))
            {
                // Tried once, as above: the general path below decides when it writes nothing.
                triedStartTurn = true;
                if (await StartTurnAsync(sessionId, owner: null, message!, cancellationToken) is { } started)
                {
                    FollowInRedis(started, queuedWork: false);
                    presence.PublishMessage(sessionId);
                    return TransitionResult.Done(started);
                }
            }

            if (!triedBeat && BeatsInOneStatement(message, @event, observed))
            {
                // Tried once, as above: a session that left busy meanwhile is decided by the transaction below.
                triedBeat = true;
                if (await BeatInOneStatementAsync(sessionId, cancellationToken) is { } beaten)
                {
                    FollowInRedis(beaten, queuedWork: false);
                    return TransitionResult.Done(beaten);
                }
            }

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (next == SessionStates.Init && observed != SessionStates.Init)
            {
                // A restore makes the session live again: the quotas are checked under their locks in this transaction,
                // before the update, so a refusal leaves nothing behind.
                if (await quotas.RefusalToRestoreAsync(sessionId, cancellationToken) is { } refusal)
                {
                    return TransitionResult.Refused(TransitionOutcome.OverQuota, refusal);
                }
            }
            if (await UpdateAsync(sessionId, observed, next, @event, error, cancellationToken) == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                continue;
            }
            var work = WorkFor(observed, next, @event);
            if (work is not null)
            {
                workQueue.Add(sessionId, work);
            }
            if (message is not null)
            {
                // Stamped under the session's row lock (taken by the update above), so created_at follows the order of
                // the sequence numbers even for messages posted at the same moment.
                message.CreatedAt = clock.GetUtcNow();
                db.Messages.Add(message);
            }
            await db.SaveChangesAsync(cancellationToken);
            var changed = next == observed ? null : await RecordStateChangeAsync(sessionId, next, cancellationToken);
            await db.RecordWebhookEventsAsync(sessionId, changed, message, cancellationToken);
            await transaction.CommitAsync(cancellationToken);

            var session = changed ?? await db.Sessions.AsNoTracking().FirstAsync(s => s.Id == sessionId, cancellationToken);
            FollowInRedis(session, work is not null);
            if (message is not null)
            {
                presence.PublishMessage(sessionId);
            }
            else if (changed is not null)
            {
                presence.PublishStateChange(sessionId);
            }
            return TransitionResult.Done(session);
        }
        return TransitionResult.Refused(TransitionOutcome.NotAllowed, "The session is changing too quickly; try again.");
    }

    /// <summary>
    /// Inserts the <c>state</c> event of a change, after the event's message (so a stream shows the message that caused a
    /// change before the change), and returns the session as the change left it: read under the row lock this transaction
    /// holds, so no later change shows in it.
    /// </summary>
    private async Task<Session> RecordStateChangeAsync(Guid sessionId, string next, CancellationToken cancellationToken)
    {
        var session = await db.Sessions.AsNoTracking().FirstAsync(s => s.Id == sessionId, cancellationToken);
        db.StateChanges.Add(new StateChange
        {
            SessionId = sessionId,
            State = next,
            Session = JsonSerializer.Serialize(SessionResponse.From(session), json.Value.SerializerOptions),
            CreatedAt = clock.GetUtcNow(),
        });
        await db.SaveChangesAsync(cancellationToken);
        return session;
    }

    private Task<int> UpdateAsync(Guid id, string observed, string next, SessionEvent @event, string? error, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var query = db.Sessions.Where(s => s.Id == id && s.State == observed);
        if (@event == SessionEvent.IdleDeadline)
        {
            query = query.Where(s => s.AutoCloseAt <= now);
        }
        if (@event == SessionEvent.HeartbeatLost)
        {
            // The Host's heartbeat (its repeated POST /busy, and its messages) moves last_activity_at: a beat that lands
            // between the sweeper's read and this update keeps the turn alive.
            var cutoff = now.AddSeconds(-sessionOptions.Value.BusyHeartbeatSeconds);
            query = query.Where(s => s.LastActivityAt <= cutoff);
        }
        return query.ExecuteUpdateAsync(set =>
        {
            set.SetProperty(s => s.State, next).SetProperty(s => s.LastActivityAt, now);
            if (next != SessionStates.Init)
            {
                set.SetProperty(s => s.ReadyDeadlineAt, (DateTimeOffset?)null);
            }
            switch (next)
            {
                case SessionStates.Idle when observed != SessionStates.Idle:
                    set.SetProperty(s => s.AutoCloseAt, s => now.AddSeconds(s.TimeoutSeconds));
                    set.SetProperty(s => s.StartedAt, s => s.StartedAt ?? now);
                    set.SetProperty(s => s.FirstReadyAt, s => s.FirstReadyAt ?? now);
                    break;
                case SessionStates.Busy:
                    set.SetProperty(s => s.AutoCloseAt, (DateTimeOffset?)null);
                    // A ready report with user messages waiting goes init → busy.
                    set.SetProperty(s => s.FirstReadyAt, s => s.FirstReadyAt ?? now);
                    break;
                // Each of these ends the current computer's Host token (see Session.ComputerStart).
                case SessionStates.Closed:
                    set.SetProperty(s => s.AutoCloseAt, (DateTimeOffset?)null).SetProperty(s => s.ClosedAt, now)
                        .SetProperty(s => s.ComputerStart, s => s.ComputerStart + 1);
                    break;
                case SessionStates.Init when observed != SessionStates.Init:
                    set.SetProperty(s => s.AutoCloseAt, (DateTimeOffset?)null).SetProperty(s => s.Error, (string?)null)
                        .SetProperty(s => s.StartedAt, (DateTimeOffset?)null)
                        .SetProperty(s => s.ComputerStart, s => s.ComputerStart + 1);
                    break;
                case SessionStates.Errored:
                    set.SetProperty(s => s.AutoCloseAt, (DateTimeOffset?)null).SetProperty(s => s.Error, error ?? "The computer failed.")
                        .SetProperty(s => s.ComputerStart, s => s.ComputerStart + 1);
                    break;
            }
        }, ct);
    }

    private static string? WorkFor(string observed, string next, SessionEvent @event) => (observed, next) switch
    {
        (not SessionStates.Closed, SessionStates.Closed) when @event != SessionEvent.ComputerGone => WorkKinds.Close,
        (SessionStates.Closed or SessionStates.Errored, SessionStates.Init) => WorkKinds.Restore,
        // An errored computer is removed at once; its volume stays for a restore.
        (not SessionStates.Errored, SessionStates.Errored) => WorkKinds.Close,
        _ => null,
    };

    /// <summary>Redis hints after the commit (they never throw; see <see cref="RedisStore"/>).</summary>
    private void FollowInRedis(Session session, bool queuedWork)
    {
        if (session is { State: SessionStates.Idle, AutoCloseAt: { } deadline })
        {
            presence.SetIdleDeadline(session.Id, deadline);
        }
        else
        {
            presence.ClearIdleDeadline(session.Id);
        }
        if (queuedWork)
        {
            workQueue.Signal();
        }
    }
}
