using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Auth;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Operators;
using Raworc.ApiService.Platform;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Messages;

/// <summary><c>/api/v0/sessions/{id}/messages</c>: the conversation with a session's Host (spec/API.md "Messages").</summary>
public static class MessagesApi
{
    /// <summary>Longest long-poll, seconds.</summary>
    public const int MaxWaitSeconds = 30;

    /// <summary>Maps the message endpoints.</summary>
    public static IEndpointRouteBuilder MapMessagesApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v0/sessions/{id}/messages").WithTags("Messages").RequireAuthorization()
            .ProducesErrors(ErrorMetadata.Authenticated).ProducesErrors(404);
        group.MapGet("/", ListAsync).WithName("ListMessages").WithMetadata(new HostRouteAttribute()).ProducesErrors(400);
        group.MapPost("/", PostAsync).WithName("PostMessage").WithMetadata(new HostRouteAttribute())
            .ProducesErrors(ErrorMetadata.JsonBody).ProducesErrors(403, 409, 422);
        group.MapGet("/count", CountAsync).WithName("CountMessages");
        group.MapDelete("/", ClearAsync).WithName("ClearMessages").ProducesErrors(403, 409);
        return routes;
    }

    /// <summary>
    /// <c>GET …/messages?after=&amp;before=&amp;order=&amp;wait=</c>: oldest first, or newest first with <c>order=desc</c>
    /// (how a client reads the tail of a long history, paging back with <c>before</c> = the last id it received).
    /// <c>after</c> and <c>before</c> are message ids of this session (else 400) and bound the list exclusively. With
    /// <c>wait</c> (0…30 s) and nothing in range, the request is held until a message arrives (woken through Redis) or
    /// the time is up. A page is bounded by <c>limit</c> and by <see cref="MessageOptions.MaxPageBytes"/> (see
    /// <see cref="MessagePages"/>).
    /// </summary>
    public static async Task<Ok<List<MessageResponse>>> ListAsync(string id, Guid? after, Guid? before, string? order, int? wait, [AsParameters] PageRequest page,
        ClaimsPrincipal caller, RaworcDbContext db, MessageSignals signals, IOptions<MessageOptions> options, IHostApplicationLifetime lifetime,
        HttpResponse response, CancellationToken cancellationToken)
    {
        if (wait is < 0 or > MaxWaitSeconds)
        {
            throw new ApiException(400, $"wait must be between 0 and {MaxWaitSeconds} seconds.");
        }
        var newestFirst = order switch
        {
            null or "asc" => false,
            "desc" => true,
            _ => throw new ApiException(400, "order must be asc or desc."),
        };
        page.Resolve();
        var session = await db.FindAsync(id, caller, SessionRight.Read, cancellationToken, response.HttpContext.Features.Get<CheckedHostSession>());
        var afterSeq = after is { } afterId ? await SeqOfAsync(db, session.Id, afterId, "after", cancellationToken) : 0L;
        var beforeSeq = before is { } beforeId ? await SeqOfAsync(db, session.Id, beforeId, "before", cancellationToken) : long.MaxValue;

        var maxBytes = options.Value.MaxPageBytes;
        // The read shared by the waiters of one wake-up pages oldest first with no upper bound: only such polls take it.
        var sharable = !newestFirst && before is null;
        using var waiter = wait is > 0 ? (sharable ? signals.RegisterAfter(session.Id, afterSeq) : signals.Register(session.Id)) : null;
        var messages = await MessagePages.ReadAsync(db, session.Id, afterSeq, beforeSeq, newestFirst, page, maxBytes, response, cancellationToken);
        if (messages.Count == 0 && waiter is not null)
        {
            // No connection is held here: the context opens one per statement. A stopping API answers waiting polls at
            // once (they poll again), instead of holding its shutdown for up to 30 s.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
            timeout.CancelAfter(TimeSpan.FromSeconds(wait!.Value));
            await waiter.Signalled.WaitAsync(timeout.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            cancellationToken.ThrowIfCancellationRequested();
            // Woken: the read shared by every waiter of this wake-up, unless it cannot hold this page; timed out: a read of its own.
            var shared = waiter.Signalled.IsCompleted && waiter.SharedRead is { } read
                ? (await read.WaitAsync(cancellationToken)).TryPage(afterSeq, page, maxBytes, response)
                : null;
            messages = shared ?? await MessagePages.ReadAsync(db, session.Id, afterSeq, beforeSeq, newestFirst, page, maxBytes, response, cancellationToken);
        }
        if (caller.IsHostOf(session))
        {
            TurnTracing.LinkToUserMessages(session.Id, messages);
            return TypedResults.Ok(messages.Select(MessageResponse.ForHost).ToList());
        }
        return TypedResults.Ok(messages.Select(MessageResponse.From).ToList());
    }

    private static async Task<long> SeqOfAsync(RaworcDbContext db, Guid sessionId, Guid messageId, string parameter, CancellationToken cancellationToken) =>
        await db.Messages.Where(m => m.Id == messageId && m.SessionId == sessionId).Select(m => (long?)m.Seq).FirstOrDefaultAsync(cancellationToken)
            ?? throw new ApiException(400, $"{parameter} must be the id of a message of this session.");

    /// <summary>
    /// <c>POST …/messages</c> → 201. From an operator or user the role is <c>user</c>, and a closed or errored
    /// session is restored (answered once its agent is up); from the session's Host token it is <c>host</c>. With an
    /// <c>Idempotency-Key</c> header that a message of the session was stored with, nothing is stored or changed: the answer
    /// is that message again (201), or a 422 when this body is another message (<see cref="IdempotencyKeys"/>).
    /// </summary>
    public static async Task<Results<Created<MessageResponse>, NotFound<ErrorResponse>, Conflict<ErrorResponse>, UnprocessableEntity<ErrorResponse>>> PostAsync(string id,
        PostMessageRequest body, ClaimsPrincipal caller, RaworcDbContext db, Conversation conversation, HttpContext context, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .CheckContent("content", body.Content, required: true)
            .CheckMetadata("metadata", body.Metadata);
        var key = IdempotencyKeys.Read(context.Request, validation);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }
        // A user's post by UUID without a key: the right to post rides in the write (the owner in its condition), with no read
        // before it. When that writes nothing, the read below decides the answer as for every other post.
        if (key is null && (body.Role is null or MessageRoles.User) && caller.HostSessionId() is null && Guid.TryParse(id, out var sessionId)
            && await conversation.TryAppendUserMessageAsync(sessionId, caller.IsAdmin() ? null : SessionOwner.Of(caller), body.Content!, body.Metadata,
                cancellationToken) is { } appended)
        {
            return CreatedAnswer(appended);
        }
        var session = await db.FindAsync(id, caller, SessionRight.Operate, cancellationToken, context.Features.Get<CheckedHostSession>());
        var byHost = caller.IsHostOf(session);
        var role = byHost ? MessageRoles.Host : MessageRoles.User;
        if (body.Role is not null && body.Role != role)
        {
            return new Validation().Add("role", $"must be \"{role}\" for this token, or left out: the token decides a message's role").ToResult();
        }

        if (key is not null && await RepeatedAsync(db, session.Id, key, role, body, cancellationToken) is { } repeated)
        {
            return repeated;
        }

        TransitionResult result;
        Message stored;
        try
        {
            (result, stored) = await conversation.AppendAsync(session.Id, role, body.Content!, body.Metadata,
                byHost ? SessionEvent.Touch : SessionEvent.UserMessage, byHost, cancellationToken, session.State, key);
        }
        catch (Exception ex) when (key is not null && ex.IsUniqueViolation())
        {
            // A post with the same key committed between the look-up above and this insert.
            if (await RepeatedAsync(db, session.Id, key, role, body, cancellationToken) is { } raced)
            {
                return raced;
            }
            throw;
        }
        switch (result.Outcome)
        {
            case TransitionOutcome.Gone:
                return ApiErrors.NotFound(result.Reason!);
            case not TransitionOutcome.Applied:
                return ApiErrors.Conflict(result.Reason!);
        }
        return CreatedAnswer(stored);
    }

    private static Created<MessageResponse> CreatedAnswer(Message stored) =>
        TypedResults.Created($"/api/v0/sessions/{stored.SessionId}/messages/{stored.Id}", MessageResponse.From(stored));

    // The answer to a post whose key a stored message holds: that message as its own post answered it, or a 422.
    private static async Task<Results<Created<MessageResponse>, NotFound<ErrorResponse>, Conflict<ErrorResponse>, UnprocessableEntity<ErrorResponse>>?> RepeatedAsync(
        RaworcDbContext db, Guid sessionId, string key, string role, PostMessageRequest body, CancellationToken cancellationToken)
    {
        if (await IdempotencyKeys.FindAsync(db, sessionId, key, cancellationToken) is not { } earlier)
        {
            return null;
        }
        if (!IdempotencyKeys.IsSameMessage(earlier, role, body.Content!, body.Metadata))
        {
            return new Validation().Add(IdempotencyKeys.Header, IdempotencyKeys.Reused).ToResult();
        }
        return CreatedAnswer(earlier);
    }

    /// <summary><c>GET …/messages/count</c> → <c>{"count": n}</c>.</summary>
    public static async Task<Ok<MessageCountResponse>> CountAsync(string id, ClaimsPrincipal caller, RaworcDbContext db, CancellationToken cancellationToken)
    {
        var session = await db.FindAsync(id, caller, SessionRight.Read, cancellationToken);
        return TypedResults.Ok(new MessageCountResponse(await db.Messages.CountAsync(m => m.SessionId == session.Id, cancellationToken)));
    }

    /// <summary><c>DELETE …/messages</c> → 204; 409 while the session is busy (a turn is reading them).</summary>
    public static async Task<NoContent> ClearAsync(string id, ClaimsPrincipal caller, RaworcDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var session = await db.FindAsync(id, caller, SessionRight.Manage, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = clock.GetUtcNow();
        // The conditional update locks the row, so no turn can start between the check and the delete.
        var notBusy = await db.Sessions.Where(s => s.Id == session.Id && s.State != SessionStates.Busy)
            .ExecuteUpdateAsync(set => set.SetProperty(s => s.LastActivityAt, now), cancellationToken);
        if (notBusy == 0)
        {
            throw new ApiException(409, "The session is busy; its messages cannot be cleared now.");
        }
        await db.Messages.Where(m => m.SessionId == session.Id).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}
