using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Platform;

namespace Raworc.ApiService.Sessions;

/// <summary><c>/api/v0/published/sessions</c>: published sessions, without authentication; never starts a computer.</summary>
public static class PublishedApi
{
    /// <summary>Maps the published endpoints.</summary>
    public static IEndpointRouteBuilder MapPublishedApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v0/published/sessions").WithTags("Published").AllowAnonymous();
        group.MapGet("/", ListAsync).WithName("ListPublishedSessions").ProducesErrors(400);
        group.MapGet("/{id}", GetAsync).WithName("GetPublishedSession").ProducesErrors(404);
        return routes;
    }

    /// <summary>Newest <c>published_at</c> first, paginated.</summary>
    public static async Task<Ok<List<PublishedSessionResponse>>> ListAsync([AsParameters] PageRequest page, RaworcDbContext db,
        HttpResponse response, CancellationToken cancellationToken)
    {
        var sessions = await db.Sessions.AsNoTracking().Where(s => s.IsPublished)
            .OrderByDescending(s => s.PublishedAt).ThenByDescending(s => s.Id)
            .PageAsync(page, response, s => s, cancellationToken);
        return TypedResults.Ok(sessions.Select(PublishedSessionResponse.From).ToList());
    }

    /// <summary>By UUID or name; 404 unless published.</summary>
    public static async Task<Ok<PublishedSessionResponse>> GetAsync(string id, RaworcDbContext db, CancellationToken cancellationToken)
    {
        var query = db.Sessions.AsNoTracking().Where(s => s.IsPublished);
        var session = Guid.TryParse(id, out var uuid)
            ? await query.FirstOrDefaultAsync(s => s.Id == uuid, cancellationToken)
            : await query.FirstOrDefaultAsync(s => s.Name == id, cancellationToken);
        return session is null ? throw new ApiException(404, "Session not found.") : TypedResults.Ok(PublishedSessionResponse.From(session));
    }
}
