using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Auth;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Operators;
using Raworc.ApiService.Webhooks;
using Raworc.ApiService.Work;

namespace Raworc.ApiService.Sessions;

/// <summary>How sessions are born, by <c>POST /sessions</c> and by <c>POST /remix</c>, and the rule that names are unique.</summary>
public static class NewSessions
{
    /// <summary>
    /// A session in <c>init</c> owned by <paramref name="owner"/> (name, principal type and, for an operator, its id), made
    /// at <paramref name="now"/>; the caller sets what the new session takes from its request or its parent.
    /// </summary>
    public static Session For(ClaimsPrincipal owner, string? name, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(),
        Name = name,
        CreatedBy = owner.Name(),
        CreatedByType = owner.Type(),
        CreatedByOperatorId = owner.OperatorId(),
        State = SessionStates.Init,
        CreatedAt = now,
        LastActivityAt = now,
    };

    /// <summary>
    /// Adds the session, its first user message (when there is a <paramref name="prompt"/>) and the work that gives it a
    /// computer (none when <paramref name="kind"/> is null: the session took a warm computer), and saves them in the
    /// caller's transaction; the caller commits, then signals the work queue.
    /// </summary>
    /// <exception cref="ApiException">409 when the name is taken; 401 when the owning operator was deleted meanwhile.</exception>
    public static async Task SaveAsync(RaworcDbContext db, WorkQueue work, Session session, string? prompt, string? kind,
        string payload, CancellationToken cancellationToken)
    {
        db.Sessions.Add(session);
        var first = prompt is null ? null : db.Messages.Add(MessageFactory.Create(session.Id, MessageRoles.User, prompt, null, session.CreatedAt)).Entity;
        if (kind is not null)
        {
            work.Add(session.Id, kind, payload);
        }
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await db.RecordWebhookEventsAsync(session.Id, changedTo: session, first, cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            throw NameTaken(session.Name);
        }
        catch (DbUpdateException ex) when ((ex.InnerException as Npgsql.PostgresException)?.SqlState == Npgsql.PostgresErrorCodes.ForeignKeyViolation)
        {
            // The creating operator was deleted while the request ran (its token was checked before).
            throw new ApiException(401, "The operator no longer exists.");
        }
    }

    /// <summary>The 409 for a session name that another session of the deployment already has.</summary>
    public static ApiException NameTaken(string? name) => new(409, $"A session named '{name}' already exists.");
}
