using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Errors;

namespace Raworc.ApiService.Platform;

/// <summary>
/// The contract's pagination (spec/API.md "Conventions"): <c>limit</c> 1…1000 (default 100) and
/// <c>offset</c> ≥ 0 (default 0); out-of-range values are a 400, never clamped. The response carries
/// <c>X-Total-Count</c>, <c>X-Page-Offset</c> and <c>X-Page-Limit</c>.
/// </summary>
/// <param name="Limit">Query <c>limit</c>, if given.</param>
/// <param name="Offset">Query <c>offset</c>, if given.</param>
public readonly record struct PageRequest(
    [Microsoft.AspNetCore.Mvc.FromQuery(Name = "limit")] int? Limit,
    [Microsoft.AspNetCore.Mvc.FromQuery(Name = "offset")] int? Offset)
{
    /// <summary>Largest allowed <c>limit</c>.</summary>
    public const int MaxLimit = 1000;

    /// <summary><c>limit</c> when none is given.</summary>
    public const int DefaultLimit = 100;

    /// <summary>Checks the values and returns (limit, offset) with defaults applied.</summary>
    /// <exception cref="ApiException">400 when a value is out of range.</exception>
    public (int Limit, int Offset) Resolve()
    {
        var limit = Limit ?? DefaultLimit;
        var offset = Offset ?? 0;
        if (limit is < 1 or > MaxLimit)
        {
            throw new ApiException(400, $"limit must be between 1 and {MaxLimit}.");
        }
        if (offset < 0)
        {
            throw new ApiException(400, "offset must be 0 or more.");
        }
        return (limit, offset);
    }
}

/// <summary>Applies a <see cref="PageRequest"/> to a query and writes the pagination headers.</summary>
public static class Pagination
{
    /// <summary>
    /// Counts <paramref name="query"/>, writes the three headers on <paramref name="response"/>, and returns
    /// the requested page of the (already ordered) query, projected with <paramref name="project"/>.
    /// </summary>
    public static Task<List<TResult>> PageAsync<TEntity, TResult>(
        this IQueryable<TEntity> query, PageRequest page, HttpResponse response,
        System.Linq.Expressions.Expression<Func<TEntity, TResult>> project, CancellationToken cancellationToken) =>
        query.PageAsync(page, response, project, async token => await query.LongCountAsync(token), cancellationToken);

    /// <summary>
    /// As the other overload, with the total read by <paramref name="countAsync"/> (a total kept elsewhere, which must be
    /// the count of <paramref name="query"/>) instead of by counting the query.
    /// </summary>
    public static async Task<List<TResult>> PageAsync<TEntity, TResult>(
        this IQueryable<TEntity> query, PageRequest page, HttpResponse response,
        System.Linq.Expressions.Expression<Func<TEntity, TResult>> project, Func<CancellationToken, Task<long>> countAsync,
        CancellationToken cancellationToken)
    {
        var (limit, offset) = page.Resolve();
        var total = await countAsync(cancellationToken);
        response.Headers["X-Total-Count"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["X-Page-Offset"] = offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["X-Page-Limit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await query.Skip(offset).Take(limit).Select(project).ToListAsync(cancellationToken);
    }
}
