using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Platform;

namespace Raworc.ApiService.Webhooks;

/// <summary><c>GET /api/v0/webhooks/{id}/deliveries</c>: what was sent to a webhook and how each attempt went.</summary>
public static class WebhookDeliveriesApi
{
    /// <summary>
    /// The webhook's deliveries, newest first, paginated, each with every attempt (time, duration, status code, error);
    /// 404 unless the webhook is the caller's.
    /// </summary>
    public static async Task<Results<Ok<List<WebhookDeliveryResponse>>, NotFound<ErrorResponse>>> ListAsync(Guid id, [AsParameters] PageRequest page,
        ClaimsPrincipal caller, RaworcDbContext db, HttpResponse response, CancellationToken cancellationToken)
    {
        if (await WebhooksApi.FindAsync(db, id, caller, cancellationToken) is null)
        {
            return ApiErrors.NotFound("Webhook not found.");
        }
        var deliveries = await db.WebhookDeliveries.AsNoTracking().Where(d => d.WebhookId == id).OrderByDescending(d => d.Id)
            .PageAsync(page, response, d => d, cancellationToken);
        var ids = deliveries.Select(d => d.Id).ToList();
        var attempts = (await db.WebhookAttempts.AsNoTracking().Where(a => ids.Contains(a.DeliveryId)).OrderBy(a => a.Id)
            .ToListAsync(cancellationToken)).ToLookup(a => a.DeliveryId);
        return TypedResults.Ok(deliveries.Select(d => new WebhookDeliveryResponse(d.Id, d.EventId, d.EventType, d.SessionId,
            d.DeliveredAt is null ? "pending" : "delivered", d.CreatedAt, d.DeliveredAt, d.DeliveredAt is null ? d.NextAttemptAt : null,
            [.. attempts[d.Id].Select(a => new WebhookAttemptResponse(a.AttemptedAt, a.DurationMs, a.StatusCode, a.Error))])).ToList());
    }
}
