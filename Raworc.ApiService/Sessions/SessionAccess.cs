using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Auth;
using Raworc.ApiService.Errors;

namespace Raworc.ApiService.Sessions;

/// <summary>What a caller wants to do with a session.</summary>
public enum SessionRight
{
    /// <summary>Read it and its messages (owner, admin, its Host, or anyone when published).</summary>
    Read,
    /// <summary>Change it (owner or admin).</summary>
    Manage,
    /// <summary>Act as or for its agent: busy/idle (owner, admin or its Host).</summary>
    Operate,
}

/// <summary>
/// Finds a session by UUID or name and checks the caller's right. A session the caller may not see
/// answers 404, never 403, so other people's sessions stay unrevealed; a published session the caller can
/// see but not change answers 403.
/// </summary>
public static class SessionAccess
{
    // Compiled once: every session route starts with one of these, so their translation is not repeated per request.
    private static readonly Func<RaworcDbContext, Guid, CancellationToken, Task<Session?>> ById = EF.CompileAsyncQuery(
        (RaworcDbContext db, Guid id, CancellationToken _) => db.Sessions.AsNoTracking().FirstOrDefault(s => s.Id == id));

    private static readonly Func<RaworcDbContext, string, CancellationToken, Task<Session?>> ByName = EF.CompileAsyncQuery(
        (RaworcDbContext db, string name, CancellationToken _) => db.Sessions.AsNoTracking().FirstOrDefault(s => s.Name == name));

    /// <summary>
    /// True when the caller created the session: for an operator, the same operator row (not merely the same name); for a
    /// user, the same name.
    /// </summary>
    public static bool Owns(this ClaimsPrincipal caller, Session session) => caller.OperatorId() is { } operatorId
        ? session.CreatedByOperatorId == operatorId
        : session.CreatedByOperatorId is null && session.CreatedBy == caller.Name() && session.CreatedByType == caller.Type();

    /// <summary>The sessions the caller owns (see <see cref="Owns"/>), as a query filter.</summary>
    public static IQueryable<Session> OwnedBy(this IQueryable<Session> sessions, ClaimsPrincipal caller) =>
        SessionOwner.Of(caller).Filter(sessions);

    /// <summary>True when the caller is the session's own Host agent.</summary>
    public static bool IsHostOf(this ClaimsPrincipal caller, Session session) => caller.HostSessionId() == session.Id;

    /// <summary>
    /// True when the caller may read the session whether or not it is published: its owner, an admin or its Host. Anyone
    /// else reads it only while it is published.
    /// </summary>
    public static bool MayReadUnpublished(this ClaimsPrincipal caller, Session session) =>
        caller.IsAdmin() || caller.Owns(session) || caller.IsHostOf(session);

    /// <summary>Loads the session <paramref name="idOrName"/> if the caller has <paramref name="right"/> on it.</summary>
    /// <param name="db">The request's context.</param>
    /// <param name="idOrName">The route's <c>{id}</c>: a UUID or a session name.</param>
    /// <param name="caller">The authenticated caller.</param>
    /// <param name="right">What the caller wants to do.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <param name="checkedHost">
    /// The request's <see cref="CheckedHostSession"/>, if any: when it is the session asked for, it is taken as read (the
    /// Host token's check read it at the start of this request) and no second read is made.
    /// </param>
    /// <exception cref="ApiException">404 when absent or invisible to the caller; 403 when visible but not allowed.</exception>
    public static async Task<Session> FindAsync(this RaworcDbContext db, string idOrName, ClaimsPrincipal caller,
        SessionRight right, CancellationToken cancellationToken, CheckedHostSession? checkedHost = null)
    {
        var isId = Guid.TryParse(idOrName, out var id);
        var session = checkedHost?.Session is { } read && caller.IsHostOf(read) && (isId ? read.Id == id : read.Name == idOrName)
            ? read
            : isId ? await ById(db, id, cancellationToken) : await ByName(db, idOrName, cancellationToken);
        var manages = session is not null && (caller.IsAdmin() || caller.Owns(session));
        var hosts = session is not null && caller.IsHostOf(session);
        if (session is null || !(manages || hosts || session.IsPublished))
        {
            throw new ApiException(404, "Session not found.");
        }

        var allowed = right switch
        {
            SessionRight.Read => true,
            SessionRight.Manage => manages,
            SessionRight.Operate => manages || hosts,
            _ => false,
        };
        if (!allowed)
        {
            throw manages || hosts || !session.IsPublished
                ? new ApiException(404, "Session not found.")
                : new ApiException(403, "This published session belongs to someone else: you may read and remix it only.");
        }
        return session;
    }
}

/// <summary>
/// The row of a Host token's session as the token's check read it at the start of the request (which also found its computer
/// live), kept on the request's features (<c>HttpContext.Features</c>) so that the handler does not read it again: a Host's
/// request costs one session read, not two.
/// </summary>
/// <param name="Session">The session, not tracked.</param>
public sealed record CheckedHostSession(Session Session);
