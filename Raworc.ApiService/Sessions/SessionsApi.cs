using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Auth;
using Raworc.ApiService.Computers;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Operators;
using Raworc.ApiService.Platform;
using Raworc.ApiService.Redis;
using Raworc.ApiService.Webhooks;
using Raworc.ApiService.Work;

namespace Raworc.ApiService.Sessions;

/// <summary><c>/api/v0/sessions</c>: create, list, read, edit and delete sessions (spec/API.md "Sessions").</summary>
public static class SessionsApi
{
    /// <summary>Maps the session endpoints (actions are in <see cref="SessionActionsApi"/>).</summary>
    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder routes)
    {
        // 403 on the people routes: a Host token.
        var people = routes.MapGroup("/api/v0/sessions").WithTags("Sessions").RequireAuthorization(AuthExtensions.PersonPolicy)
            .ProducesErrors(ErrorMetadata.Authenticated).ProducesErrors(403);
        people.MapGet("/", ListAsync).WithName("ListSessions").ProducesErrors(400);
        people.MapPost("/", CreateAsync).WithName("CreateSession").ProducesErrors(ErrorMetadata.JsonBody).ProducesErrors(409, 422);

        // 404 for a session the caller may not see; 403 for a change to someone else's published one.
        var any = routes.MapGroup("/api/v0/sessions").WithTags("Sessions").RequireAuthorization()
            .ProducesErrors(ErrorMetadata.Authenticated).ProducesErrors(404);
        any.MapGet("/{id}", GetAsync).WithName("GetSession");
        any.MapPut("/{id}", UpdateAsync).WithName("UpdateSession").ProducesErrors(ErrorMetadata.JsonBody).ProducesErrors(403, 409, 422);
        any.MapDelete("/{id}", DeleteAsync).WithName("DeleteSession").ProducesErrors(403);
        return routes;
    }

    /// <summary>
    /// <c>GET /sessions?state=&amp;limit=&amp;offset=</c> or <c>?after=&lt;cursor&gt;</c>: the caller's sessions (an admin's:
    /// all), newest first. A full page carries <see cref="SessionCursor.NextHeader"/> and a <c>Link</c> <c>rel="next"</c>
    /// to the page after it (by cursor: an index range read at any depth). Offset pages carry the contract's exact
    /// <c>X-Total-Count</c> — for a user's or operator's whole list the owner's <see cref="SessionTotal"/> row, for an
    /// admin's or one state's a count of the rows; cursor pages do not count and carry <c>X-Page-Limit</c> only.
    /// </summary>
    public static async Task<Ok<List<SessionResponse>>> ListAsync(string? state, string? after, [AsParameters] PageRequest page,
        ClaimsPrincipal caller, RaworcDbContext db, HttpResponse response, CancellationToken cancellationToken)
    {
        if (state is not null && !SessionStates.All.Contains(state))
        {
            throw new ApiException(400, $"state must be one of {string.Join(", ", SessionStates.All)}.");
        }
        if (after is not null && page.Offset is not null)
        {
            throw new ApiException(400, "after and offset cannot be combined: page by one or the other.");
        }
        var query = db.Sessions.AsNoTracking();
        if (!caller.IsAdmin())
        {
            query = query.OwnedBy(caller);
        }
        if (state is not null)
        {
            query = query.Where(s => s.State == state);
        }
        var ordered = query.OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.Id);
        List<Session> sessions;
        int limit;
        if (after is not null)
        {
            var cursor = SessionCursor.Parse(after);
            (limit, _) = page.Resolve();
            // A row comparison, (created_at, id) < (…): a range read of the owner's (…, created_at) index, or for an admin of ix_sessions_list_order.
            sessions = await ordered.Where(s => EF.Functions.LessThan(ValueTuple.Create(s.CreatedAt, s.Id), ValueTuple.Create(cursor.CreatedAt, cursor.Id)))
                .Take(limit).ToListAsync(cancellationToken);
            response.Headers["X-Page-Limit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            (limit, _) = page.Resolve();
            // A whole list's total comes from session_totals, which the database keeps equal to the count of this query: the
            // owner's row for a user or operator (one row read, however many sessions), every owner's row summed for an
            // admin (one row per owner); one state's list counts.
            var owner = SessionTotal.KeyOf(SessionOwner.Of(caller));
            Func<CancellationToken, Task<long>> total = state is not null
                ? async token => await ordered.LongCountAsync(token)
                : caller.IsAdmin()
                    ? async token => await db.SessionTotals.SumAsync(t => t.Total, token)
                    : async token => await db.SessionTotals.Where(t => t.OwnerKey == owner).Select(t => t.Total).FirstOrDefaultAsync(token);
            sessions = await ordered.PageAsync(page, response, s => s, total, cancellationToken);
        }
        if (sessions.Count == limit)
        {
            var next = SessionCursor.After(sessions[^1]).ToString();
            response.Headers[SessionCursor.NextHeader] = next;
            var link = $"/api/v0/sessions?after={next}&limit={limit}" + (state is null ? "" : $"&state={state}");
            response.Headers.Link = $"<{link}>; rel=\"next\"";
        }
        return TypedResults.Ok(sessions.Select(SessionResponse.From).ToList());
    }

    /// <summary>
    /// <c>POST /sessions</c> → 201 in <c>init</c>, with the computer's creation queued; 409 when the caller or the
    /// deployment is at its quota of live sessions (<see cref="SessionQuotas"/>), with nothing stored.
    /// </summary>
    public static async Task<Results<Created<SessionResponse>, UnprocessableEntity<ErrorResponse>>> CreateAsync(CreateSessionRequest body,
        ClaimsPrincipal caller, RaworcDbContext db, SessionSecrets secrets, WorkQueue work, SessionQuotas quotas, TimeProvider clock,
        WarmPool pool, IOptions<ComputerOptions> computers, RedisStore presence, WarmPoolHandoffs handoffs, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .CheckName(body.Name)
            .CheckMetadata("metadata", body.Metadata)
            .CheckSecrets(body.Secrets)
            .CheckScript("instructions", body.Instructions)
            .CheckScript("setup", body.Setup)
            .CheckContent("prompt", body.Prompt, required: false)
            .CheckTimeout(body.TimeoutSeconds);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await quotas.EnsureRoomAsync(SessionOwner.Of(caller), cancellationToken);
        var now = clock.GetUtcNow();
        var session = NewSessions.For(caller, body.Name, now);
        session.Metadata = (body.Metadata ?? []).ToJsonString();
        session.TimeoutSeconds = body.TimeoutSeconds ?? SessionRules.DefaultTimeoutSeconds;
        session.Instructions = body.Instructions;
        session.Setup = body.Setup;
        session.ProtectedSecrets = secrets.Protect(body.Secrets);
        session.SecretNames = body.Secrets?.Keys.Order(StringComparer.Ordinal).ToArray() ?? [];
        session.Desktop = body.Desktop ?? computers.Value.Desktop;
        // A started computer of the warm pool, if one waits (pooled computers are plain, so a desktop session never takes
        // one): the session takes its reserved id, and its agent the session.
        var warm = !session.Desktop && computers.Value is { Enabled: true, WarmPool: > 0 } settings
            ? await WarmPoolClaims.TryClaimAsync(db, WarmPool.Fingerprint(settings), cancellationToken)
            : null;
        if (warm is not null)
        {
            session.Id = warm.Id;
            session.ContainerId = warm.ContainerId;
            session.PersistentVolumeId = DockerComputerProvider.NameOf(warm.Id);
            session.ReadyDeadlineAt = now.AddSeconds(computers.Value.StartDeadlineSeconds + (session.Setup is null ? 0 : computers.Value.SetupTimeoutSeconds));
        }
        await NewSessions.SaveAsync(db, work, session, body.Prompt, warm is null ? WorkKinds.Create : null, "{}", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (warm is null)
        {
            work.Signal();
        }
        else
        {
            // Hands the claim to the computer's long-poll at once when this replica holds it (no read, no trip through
            // Redis), else wakes it on whichever replica does; and wakes the pool to refill.
            if (!handoffs.TryHandOff(session))
            {
                presence.PublishMessage(session.Id);
            }
            pool.Wake();
        }
        return TypedResults.Created($"/api/v0/sessions/{session.Id}", SessionResponse.From(session));
    }

    /// <summary><c>GET /sessions/{id}</c>.</summary>
    public static async Task<Ok<SessionResponse>> GetAsync(string id, ClaimsPrincipal caller, RaworcDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(SessionResponse.From(await db.FindAsync(id, caller, SessionRight.Read, cancellationToken)));

    /// <summary>
    /// <c>PUT /sessions/{id}</c>: name, metadata, timeout. A new timeout on an idle session moves
    /// <c>auto_close_at</c> to <c>last_activity_at + timeout</c>.
    /// </summary>
    public static async Task<Results<Ok<SessionResponse>, UnprocessableEntity<ErrorResponse>>> UpdateAsync(string id,
        UpdateSessionRequest body, ClaimsPrincipal caller, RaworcDbContext db, RedisStore presence, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .When(body is { Name: null, Metadata: null, TimeoutSeconds: null }, "body", "must set at least one of name, metadata, timeout_seconds")
            .CheckName(body.Name)
            .CheckMetadata("metadata", body.Metadata)
            .CheckTimeout(body.TimeoutSeconds);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }
        var session = await db.FindAsync(id, caller, SessionRight.Manage, cancellationToken);

        var metadata = body.Metadata?.ToJsonString();
        var timeout = body.TimeoutSeconds;
        try
        {
            await db.Sessions.Where(s => s.Id == session.Id).ExecuteUpdateAsync(set =>
            {
                if (body.Name is not null)
                {
                    set.SetProperty(s => s.Name, body.Name);
                }
                if (metadata is not null)
                {
                    set.SetProperty(s => s.Metadata, metadata);
                }
                if (timeout is { } seconds)
                {
                    set.SetProperty(s => s.TimeoutSeconds, seconds);
                    set.SetProperty(s => s.AutoCloseAt, s => s.State == SessionStates.Idle ? s.LastActivityAt.AddSeconds(seconds) : s.AutoCloseAt);
                }
            }, cancellationToken);
        }
        catch (Exception ex) when (ex.IsUniqueViolation())
        {
            throw NewSessions.NameTaken(body.Name);
        }

        var updated = await db.Sessions.AsNoTracking().FirstAsync(s => s.Id == session.Id, cancellationToken);
        if (updated is { State: SessionStates.Idle, AutoCloseAt: { } deadline })
        {
            presence.SetIdleDeadline(updated.Id, deadline);
        }
        return TypedResults.Ok(SessionResponse.From(updated));
    }

    /// <summary><c>DELETE /sessions/{id}</c> → 204: the row and its messages go now; the computer and volume are removed by the worker.</summary>
    public static async Task<NoContent> DeleteAsync(string id, ClaimsPrincipal caller, RaworcDbContext db, WorkQueue work,
        RedisStore presence, CancellationToken cancellationToken)
    {
        var session = await db.FindAsync(id, caller, SessionRight.Manage, cancellationToken);
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            await db.DeleteSessionsAsync(work, [session.Id], cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        AfterDelete(presence, work, [session.Id]);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Deletes sessions inside the caller's transaction: their pending work is dropped, their rows and messages deleted,
    /// and a delete item queued for each (saved with the caller's <c>SaveChanges</c>), which removes the computer, if one
    /// runs, and the volume. Call <see cref="AfterDelete"/> once committed.
    /// </summary>
    public static async Task DeleteSessionsAsync(this RaworcDbContext db, WorkQueue work, IReadOnlyCollection<Guid> ids,
        CancellationToken cancellationToken)
    {
        foreach (var id in ids)
        {
            await work.DropPendingAsync(id, cancellationToken);
        }
        await db.RecordWebhookDeletionsAsync(ids, cancellationToken);
        await db.Sessions.Where(s => ids.Contains(s.Id)).ExecuteDeleteAsync(cancellationToken);
        foreach (var id in ids)
        {
            work.Add(id, WorkKinds.Delete);
        }
    }

    /// <summary>
    /// After deleted sessions committed: forgets their idle deadlines in Redis, ends their event streams and wakes the
    /// workers (hints that never throw).
    /// </summary>
    public static void AfterDelete(RedisStore presence, WorkQueue work, IReadOnlyCollection<Guid> ids)
    {
        foreach (var id in ids)
        {
            presence.ClearIdleDeadline(id);
            presence.PublishDeleted(id);
        }
        if (ids.Count > 0)
        {
            work.Signal();
        }
    }
}
