using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Webhooks;

namespace Raworc.ApiService.Sessions;

public sealed partial class SessionTransitions
{
    /// <summary>
    /// True when <paramref name="message"/> can go in with <see cref="AppendInOneStatementAsync"/>: the event leaves the
    /// state as it is (a user's message to a busy or starting session, the Host's messages), so no <c>state</c> event, no
    /// work and no quota check belong to it; an idle session keeps its deadline, as <see cref="UpdateAsync"/> does.
    /// </summary>
    private static bool AppendsInOneStatement(Message? message, string observed, string next) =>
        message is not null && next == observed && observed is SessionStates.Idle or SessionStates.Busy or SessionStates.Init;

    /// <summary>
    /// Stores <paramref name="message"/> and touches its session in one statement, one round trip and one implicit
    /// transaction: the conditional update takes the session's row lock and the insert (which draws the sequence number)
    /// reads its output, so the number is drawn under the lock and committed before the lock is released — per session, in
    /// commit order, as in <see cref="ApplyAsync"/>. <c>created_at</c> is the later of this process's clock and the
    /// session's <c>last_activity_at</c> as the lock holder sees it (also its new value), so it never goes backwards
    /// within a session whoever's clock stamped the message before.
    /// </summary>
    /// <remarks>
    /// Appends to one session wait for each other in this process (<see cref="AppendStripes"/>); whichever holds the gate
    /// writes every append that is waiting for it then (up to <see cref="MaxBatch"/> messages and
    /// <see cref="MaxBatchCharacters"/> characters of content), one statement per session: a group commit. The messages of
    /// one statement take consecutive sequence numbers in the order their posts arrived and share one <c>created_at</c>;
    /// the statement writes all of them or none (a state that moved, a webhook, a failure), and each caller then goes on as
    /// if its own statement had. An append with an <c>Idempotency-Key</c> is written alone, so that a repeated key fails
    /// only its own post. With 32 clients posting to one session, the statement had carried one message per round trip,
    /// Postgres commit and row lock.
    /// </remarks>
    /// <param name="sessionId">The session.</param>
    /// <param name="observed">The state the caller read; null when it read none: then the session must be in one of
    /// <see cref="UnchangedByUserMessage"/> (a user's message without a read before it, <see cref="TryAppendUserMessageAsync"/>).</param>
    /// <param name="owner">Whom the session must belong to (<see cref="SessionOwner.Filter"/>, written in SQL); null when the
    /// caller's right was already checked or needs no owner (an admin).</param>
    /// <param name="message">The message; its <c>created_at</c> is set when it is written.</param>
    /// <param name="cancellationToken">Cancels the wait for the gate, not a statement that carries others' messages too.</param>
    /// <returns>
    /// The session after the statement; or null when nothing was written: the state is no longer <paramref name="observed"/>,
    /// the session is gone or not <paramref name="owner"/>'s, or its owner has an enabled webhook for <c>session.message</c>
    /// (whose delivery must be written in the same transaction, which <see cref="ApplyAsync"/> does) — the caller then takes
    /// that path.
    /// </returns>
    private async Task<Session?> AppendInOneStatementAsync(Guid sessionId, string? observed, SessionOwner? owner, Message message,
        CancellationToken cancellationToken)
    {
        var stripe = AppendStripes[(int)((uint)sessionId.GetHashCode() % (uint)AppendStripes.Length)];
        var append = new PendingAppend(sessionId, observed, owner, message);
        if (message.IdempotencyKey is null)
        {
            lock (stripe.Waiting)
            {
                stripe.Waiting.Add(append);
            }
        }
        try
        {
            await stripe.Gate.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Still waiting: nothing is written for it. Already taken by a statement that runs: it stands or falls with
            // that statement, as a statement of its own cancelled in flight would.
            lock (stripe.Waiting)
            {
                stripe.Waiting.Remove(append);
            }
            throw;
        }
        try
        {
            if (!append.Outcome.Task.IsCompleted)
            {
                await WriteAsync(TakeBatch(stripe, append));
            }
        }
        finally
        {
            stripe.Gate.Release();
        }
        return await append.Outcome.Task;
    }

    /// <summary>At most this many messages go in one statement.</summary>
    internal const int MaxBatch = 64;

    /// <summary>At most this many characters of content go in one statement (beyond the first message's own).</summary>
    internal const int MaxBatchCharacters = 1 << 20;

    // The gate holder's own append first, then the others waiting in the stripe, oldest first, within the bounds; an
    // append with a key alone (keyed appends never wait in the list).
    private static List<PendingAppend> TakeBatch(AppendStripe stripe, PendingAppend own)
    {
        var batch = new List<PendingAppend> { own };
        if (own.Message.IdempotencyKey is not null)
        {
            return batch;
        }
        lock (stripe.Waiting)
        {
            stripe.Waiting.Remove(own);
            var characters = own.Message.Content.Length;
            var taken = 0;
            foreach (var waiting in stripe.Waiting)
            {
                if (batch.Count == MaxBatch || characters + waiting.Message.Content.Length > MaxBatchCharacters)
                {
                    break;
                }
                characters += waiting.Message.Content.Length;
                batch.Add(waiting);
                taken++;
            }
            stripe.Waiting.RemoveRange(0, taken);
        }
        return batch;
    }

    // One statement per session, observed state and owner guard in the batch (a stripe holds 1 in 256 sessions' appends, and
    // posts that read the state either side of a change name different states); each append gets its statement's outcome.
    // Not cancelled by any one caller: the statement carries others' messages too.
    private async Task WriteAsync(List<PendingAppend> batch)
    {
        foreach (var group in batch.GroupBy(a => (a.SessionId, a.Observed, a.Owner)))
        {
            var appends = group.ToList();
            try
            {
                var session = await AppendUngatedAsync(group.Key.SessionId, group.Key.Observed, group.Key.Owner, [.. appends.Select(a => a.Message)],
                    CancellationToken.None);
                appends.ForEach(a => a.Outcome.TrySetResult(session));
            }
            catch (Exception ex)
            {
                appends.ForEach(a => a.Outcome.TrySetException(ex));
            }
        }
    }

    /// <summary>
    /// Appends to one session at a time in this process (striped: 256 stripes, a session's by its id's hash, so two sessions
    /// share one in 1 of 256 cases), each stripe with the appends waiting for its gate. Postgres serializes a session's
    /// appends on its row lock anyway; queued here, the waiting ones cost this process a semaphore's queue instead of
    /// Postgres a waiting backend each, which every commit woke to re-check the row, and the gate's holder writes them all.
    /// </summary>
    private static readonly AppendStripe[] AppendStripes = [.. Enumerable.Range(0, 256).Select(_ => new AppendStripe())];

    /// <summary>One stripe's gate and the appends waiting for it (guarded by locking the list), oldest first.</summary>
    private sealed class AppendStripe
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public List<PendingAppend> Waiting { get; } = [];
    }

    /// <summary>An append waiting to be written, and its outcome: the session after its statement, or null (see <see cref="AppendInOneStatementAsync"/>).</summary>
    private sealed record PendingAppend(Guid SessionId, string? Observed, SessionOwner? Owner, Message Message)
    {
        public TaskCompletionSource<Session?> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private async Task<Session?> AppendUngatedAsync(Guid sessionId, string? observed, SessionOwner? owner, Message[] messages,
        CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var states = observed is null ? UnchangedByUserMessage : [observed];
        var ids = messages.Select(m => m.Id).ToArray();
        var roles = messages.Select(m => m.Role).ToArray();
        var contents = messages.Select(m => m.Content).ToArray();
        var metadata = messages.Select(m => m.Metadata).ToArray();
        var traceParents = messages.Select(m => m.TraceParent).ToArray();
        var keys = messages.Select(m => m.IdempotencyKey).ToArray();
        // unnest … WITH ORDINALITY and ORDER BY: the identity column draws each row's number in the order the rows are
        // inserted, which is the order of the arrays.
        var rows = await db.Sessions.FromSql(ResultColumns.Inline($"""
            WITH s AS (
                UPDATE sessions
                SET last_activity_at = GREATEST({now}, last_activity_at),
                    ready_deadline_at = CASE WHEN state = 'init' THEN ready_deadline_at END,
                    auto_close_at = CASE WHEN state = 'busy' THEN NULL ELSE auto_close_at END
                WHERE id = {sessionId} AND state = ANY ({states})
                  AND {OwnerCondition(owner)}
                  AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.operator_id = sessions.created_by_operator_id
                                  AND w.enabled AND {WebhookEventTypes.Message} = ANY (w.event_types))
                RETURNING {ResultColumns.Of<Session>(db)}
            ), m AS (
                INSERT INTO messages (id, session_id, role, content, metadata, created_at, trace_parent, idempotency_key)
                SELECT u.id, s.id, u.role, u.content, CAST(u.metadata AS jsonb), s.last_activity_at,
                       CAST(u.trace_parent AS varchar(55)), CAST(u.idempotency_key AS varchar(255))
                FROM s CROSS JOIN unnest(CAST({ids} AS uuid[]), CAST({roles} AS text[]), CAST({contents} AS text[]),
                                         CAST({metadata} AS text[]), CAST({traceParents} AS text[]), CAST({keys} AS text[]))
                     WITH ORDINALITY AS u(id, role, content, metadata, trace_parent, idempotency_key, ordinal)
                ORDER BY u.ordinal
            )
            SELECT * FROM s
            """)).AsNoTracking().ToListAsync(cancellationToken);
        if (rows is not [var session])
        {
            return null;
        }
        foreach (var message in messages)
        {
            message.CreatedAt = session.LastActivityAt;
        }
        return session;
    }
}
