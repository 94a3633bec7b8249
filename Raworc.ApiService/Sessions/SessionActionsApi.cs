using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Auth;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Platform;
using Raworc.ApiService.Redis;
using Raworc.ApiService.Work;

namespace Raworc.ApiService.Sessions;

/// <summary>Session actions: close, restore, remix, publish, busy/idle and state changes.</summary>
public static class SessionActionsApi
{
    /// <summary>Maps the action endpoints.</summary>
    public static IEndpointRouteBuilder MapSessionActionsApi(this IEndpointRouteBuilder routes)
    {
        // 404 for a session the caller may not see; 403 for someone else's published one (read and remix only).
        var any = routes.MapGroup("/api/v0/sessions/{id}").WithTags("Sessions").RequireAuthorization()
            .ProducesErrors(ErrorMetadata.Authenticated).ProducesErrors(403, 404);
        any.MapPost("/close", CloseAsync).WithName("CloseSession").ProducesErrors(409);
        any.MapPost("/restore", RestoreAsync).WithName("RestoreSession").ProducesErrors(ErrorMetadata.JsonBody).ProducesErrors(409, 422);
        any.MapPost("/publish", PublishAsync).WithName("PublishSession").ProducesErrors(ErrorMetadata.JsonBody);
        any.MapPost("/unpublish", UnpublishAsync).WithName("UnpublishSession");
        any.MapPost("/busy", (string id, ClaimsPrincipal caller, RaworcDbContext db, SessionTransitions transitions, HttpContext context, CancellationToken ct) =>
            OperateAsync(id, SessionEvent.Busy, caller, db, transitions, ct, context.Features.Get<CheckedHostSession>())).WithName("MarkSessionBusy")
            .WithMetadata(new HostRouteAttribute()).ProducesErrors(409);
        any.MapPost("/idle", MarkIdleAsync).WithName("MarkSessionIdle").WithMetadata(new HostRouteAttribute()).ProducesErrors(409);
        any.MapPut("/state", ChangeStateAsync).WithName("ChangeSessionState").ProducesErrors(ErrorMetadata.JsonBody).ProducesErrors(409, 422);
        routes.MapPost("/api/v0/sessions/{id}/remix", RemixAsync).WithTags("Sessions")
            .RequireAuthorization(AuthExtensions.PersonPolicy).WithName("RemixSession")
            .ProducesErrors(ErrorMetadata.Authenticated).ProducesErrors(ErrorMetadata.JsonBody).ProducesErrors(403, 404, 409, 422);
        return routes;
    }

    /// <summary><c>POST /close</c>: the computer is stopped and removed; volume and history stay. 409 naming the state when closed.</summary>
    public static async Task<Results<Ok<SessionResponse>, NotFound<ErrorResponse>, Conflict<ErrorResponse>>> CloseAsync(string id,
        ClaimsPrincipal caller, RaworcDbContext db, SessionTransitions transitions, CancellationToken cancellationToken) =>
        (await CloseCoreAsync(id, caller, db, transitions, cancellationToken)).ToHttp();

    private static async Task<TransitionResult> CloseCoreAsync(string id, ClaimsPrincipal caller, RaworcDbContext db,
        SessionTransitions transitions, CancellationToken cancellationToken)
    {
        var session = await db.FindAsync(id, caller, SessionRight.Manage, cancellationToken);
        return await transitions.ApplyAsync(session.Id, SessionEvent.Close, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// <c>POST /restore</c> (owner only; admins remix instead): a new computer on the same volume; 409 when the session is
    /// live, or when the owner or the deployment is at its quota of live sessions, with no message stored.
    /// </summary>
    public static async Task<Results<Ok<SessionResponse>, NotFound<ErrorResponse>, Conflict<ErrorResponse>, UnprocessableEntity<ErrorResponse>>>
        RestoreAsync(string id, RestoreRequest? body, ClaimsPrincipal caller, RaworcDbContext db, SessionTransitions transitions,
        Conversation conversation, CancellationToken cancellationToken)
    {
        var validation = new Validation().CheckContent("prompt", body?.Prompt, required: false);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }
        return (await RestoreCoreAsync(id, body?.Prompt, caller, db, transitions, conversation, cancellationToken)).ToHttpOrInvalid();
    }

    private static async Task<TransitionResult> RestoreCoreAsync(string id, string? prompt, ClaimsPrincipal caller, RaworcDbContext db,
        SessionTransitions transitions, Conversation conversation, CancellationToken cancellationToken)
    {
        var session = await db.FindAsync(id, caller, SessionRight.Manage, cancellationToken);
        if (!caller.Owns(session))
        {
            throw new ApiException(403, "Only the session's owner can restore it; admins can remix it instead.");
        }
        return prompt is null
            ? await transitions.ApplyAsync(session.Id, SessionEvent.Restore, cancellationToken: cancellationToken)
            : (await conversation.AppendAsync(session.Id, MessageRoles.User, prompt, null, SessionEvent.Restore, cancellationToken: cancellationToken)).Result;
    }

    /// <summary>
    /// <c>POST /busy</c> and <c>POST /idle</c>: owner, admin or the session's Host, except that only the Host marks a session
    /// busy (403 for anyone else: a user message starts a turn, and a turn lasts only while its Host gives signs of life).
    /// A Host's request passes its <see cref="CheckedHostSession"/>, which saves reading the session again.
    /// </summary>
    public static async Task<Results<Ok<SessionResponse>, NotFound<ErrorResponse>, Conflict<ErrorResponse>>> OperateAsync(string id,
        SessionEvent @event, ClaimsPrincipal caller, RaworcDbContext db, SessionTransitions transitions, CancellationToken cancellationToken,
        CheckedHostSession? checkedHost = null) =>
        (await OperateCoreAsync(id, @event, caller, db, transitions, cancellationToken, checkedHost)).ToHttp();

    private static async Task<TransitionResult> OperateCoreAsync(string id, SessionEvent @event, ClaimsPrincipal caller,
        RaworcDbContext db, SessionTransitions transitions, CancellationToken cancellationToken, CheckedHostSession? checkedHost = null)
    {
        var session = await db.FindAsync(id, caller, SessionRight.Operate, cancellationToken, checkedHost);
        if (@event == SessionEvent.Busy && !caller.IsHostOf(session))
        {
            throw new ApiException(403, "Only the session's Host marks it busy; a user message starts a turn.");
        }
        return await transitions.ApplyAsync(session.Id, @event, caller.IsHostOf(session), cancellationToken: cancellationToken,
            observedState: session.State);
    }

    /// <summary>
    /// <c>POST /idle</c>. When the session's Host reports ready (init → idle, or init → busy when user messages wait), a
    /// failed or timed-out setup script is reported to the user as a <c>system</c> message, from the outcome the Host sends
    /// in <paramref name="body"/> (or, when it sends none, from the computer's status file).
    /// </summary>
    public static async Task<Results<Ok<SessionResponse>, NotFound<ErrorResponse>, Conflict<ErrorResponse>>> MarkIdleAsync(string id,
        MarkIdleRequest? body, ClaimsPrincipal caller, RaworcDbContext db, SessionTransitions transitions, IServiceProvider services, HttpContext context,
        CancellationToken cancellationToken)
    {
        var session = await db.FindAsync(id, caller, SessionRight.Operate, cancellationToken, context.Features.Get<CheckedHostSession>());
        var byHost = caller.IsHostOf(session);
        // A new session's first ready report with no user message waiting takes three round trips (TryReadyAsync); any
        // other report the general path, which reads whether messages wait (init → busy) and records webhook deliveries.
        var result = byHost && session is { State: SessionStates.Init, ComputerStart: 0 } && await transitions.TryReadyAsync(session.Id, cancellationToken) is { } ready
            ? TransitionResult.Done(ready)
            : await transitions.ApplyAsync(session.Id,
                session.State == SessionStates.Init && byHost && await db.HasUnansweredUserMessagesAsync(session.Id, cancellationToken)
                    ? SessionEvent.ReadyWithPendingMessages
                    : SessionEvent.Idle,
                // The state just read saves the transition its own read (a ready report is on every start's path).
                byHost, cancellationToken: cancellationToken, observedState: session.State);
        if (result.IsApplied && session.State == SessionStates.Init && byHost && services.GetService<Computers.SetupReport>() is { } report)
        {
            await report.PostIfFailedAsync(session.Id, body?.Setup, cancellationToken);
        }
        return result.ToHttp();
    }

    /// <summary><c>PUT /state</c>: <c>closed</c> acts as close, <c>init</c> as restore, <c>idle</c>/<c>busy</c> as the marks.</summary>
    public static async Task<Results<Ok<SessionResponse>, NotFound<ErrorResponse>, Conflict<ErrorResponse>, UnprocessableEntity<ErrorResponse>>>
        ChangeStateAsync(string id, ChangeStateRequest body, ClaimsPrincipal caller, RaworcDbContext db, SessionTransitions transitions,
        Conversation conversation, CancellationToken cancellationToken) =>
        body.State switch
        {
            SessionStates.Closed => (await CloseCoreAsync(id, caller, db, transitions, cancellationToken)).ToHttpOrInvalid(),
            SessionStates.Init => (await RestoreCoreAsync(id, null, caller, db, transitions, conversation, cancellationToken)).ToHttpOrInvalid(),
            SessionStates.Idle => (await OperateCoreAsync(id, SessionEvent.Idle, caller, db, transitions, cancellationToken)).ToHttpOrInvalid(),
            SessionStates.Busy => (await OperateCoreAsync(id, SessionEvent.Busy, caller, db, transitions, cancellationToken)).ToHttpOrInvalid(),
            _ => new Validation().Add("state", "must be one of closed, init, idle, busy").ToResult(),
        };

    /// <summary>
    /// <c>POST /remix</c> → 201: a new session owned by the caller, copying the parent's folders as asked
    /// (defaults: everything for one's own session; the publish permissions for someone else's published one,
    /// where asking for a forbidden part is a 403). 409 when the caller or the deployment is at its quota of live
    /// sessions (<see cref="SessionQuotas"/>), with nothing stored.
    /// </summary>
    public static async Task<Results<Created<SessionResponse>, UnprocessableEntity<ErrorResponse>>> RemixAsync(string id,
        RemixRequest? body, ClaimsPrincipal caller, RaworcDbContext db, WorkQueue work, SessionQuotas quotas, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        body ??= new RemixRequest(null, null, null, null, null, null);
        var validation = new Validation().CheckName(body.Name).CheckMetadata("metadata", body.Metadata)
            .CheckContent("prompt", body.Prompt, required: false);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }
        var parent = await db.FindAsync(id, caller, SessionRight.Read, cancellationToken);
        var own = caller.IsAdmin() || caller.Owns(parent);

        bool Part(bool? asked, bool permitted, string name) => own
            ? asked ?? true
            : asked switch
            {
                true when !permitted => throw new ApiException(403, $"This published session does not allow copying its {name}."),
                null => permitted,
                _ => asked.Value,
            };
        var parts = new RemixPayload(parent.Id, Part(body.Data, parent.PublishData, "data"),
            Part(body.Code, parent.PublishCode, "code"), Part(body.Secrets, parent.PublishSecrets, "secrets"));

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await quotas.EnsureRoomAsync(SessionOwner.Of(caller), cancellationToken);
        var now = clock.GetUtcNow();
        var child = NewSessions.For(caller, body.Name, now);
        child.ParentSessionId = parent.Id;
        child.Metadata = body.Metadata?.ToJsonString() ?? parent.Metadata;
        child.TimeoutSeconds = parent.TimeoutSeconds;
        // Instructions and setup live in code/, so they travel with it.
        child.Instructions = parts.Code ? parent.Instructions : null;
        child.Setup = parts.Code ? parent.Setup : null;
        child.ProtectedSecrets = parts.Secrets ? parent.ProtectedSecrets : null;
        child.SecretNames = parts.Secrets ? parent.SecretNames : [];
        child.Desktop = body.Desktop ?? parent.Desktop;
        await NewSessions.SaveAsync(db, work, child, body.Prompt, WorkKinds.Remix, JsonSerializer.Serialize(parts), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        work.Signal();
        return TypedResults.Created($"/api/v0/sessions/{child.Id}", SessionResponse.From(child));
    }

    /// <summary><c>POST /publish</c>: readable by everyone, remixable within the permissions (defaults data and code, no secrets).</summary>
    public static async Task<Ok<SessionResponse>> PublishAsync(string id, PublishRequest? body, ClaimsPrincipal caller,
        RaworcDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var session = await db.FindAsync(id, caller, SessionRight.Manage, cancellationToken);
        var (data, code, secrets, now, by) = (body?.Data ?? true, body?.Code ?? true, body?.Secrets ?? false, clock.GetUtcNow(), caller.Name());
        await db.Sessions.Where(s => s.Id == session.Id).ExecuteUpdateAsync(set => set
            .SetProperty(s => s.IsPublished, true).SetProperty(s => s.PublishedAt, now).SetProperty(s => s.PublishedBy, by)
            .SetProperty(s => s.PublishData, data).SetProperty(s => s.PublishCode, code).SetProperty(s => s.PublishSecrets, secrets),
            cancellationToken);
        return TypedResults.Ok(SessionResponse.From(await db.Sessions.AsNoTracking().FirstAsync(s => s.Id == session.Id, cancellationToken)));
    }

    /// <summary>
    /// <c>POST /unpublish</c>. Wakes the session's event streams, so those of readers who saw it only because it was
    /// published end at once (README "Live events").
    /// </summary>
    public static async Task<Ok<SessionResponse>> UnpublishAsync(string id, ClaimsPrincipal caller, RaworcDbContext db, RedisStore presence,
        CancellationToken cancellationToken)
    {
        var session = await db.FindAsync(id, caller, SessionRight.Manage, cancellationToken);
        await db.Sessions.Where(s => s.Id == session.Id).ExecuteUpdateAsync(set => set
            .SetProperty(s => s.IsPublished, false).SetProperty(s => s.PublishedAt, (DateTimeOffset?)null)
            .SetProperty(s => s.PublishedBy, (string?)null), cancellationToken);
        presence.PublishStateChange(session.Id);
        return TypedResults.Ok(SessionResponse.From(await db.Sessions.AsNoTracking().FirstAsync(s => s.Id == session.Id, cancellationToken)));
    }
}
