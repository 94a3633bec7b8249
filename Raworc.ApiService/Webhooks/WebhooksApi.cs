using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Auth;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Platform;

namespace Raworc.ApiService.Webhooks;

/// <summary>
/// <c>/api/v0/webhooks</c>: an operator's endpoints for its sessions' events. Operators only (a token user gets 403:
/// its sessions have no durable owner to attach a webhook to); each operator sees and changes only its own webhooks,
/// an admin too (another's webhook answers 404).
/// </summary>
public static class WebhooksApi
{
    /// <summary>Maps the webhook endpoints.</summary>
    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v0/webhooks").WithTags("Webhooks").RequireAuthorization(AuthExtensions.PersonPolicy)
            .ProducesErrors(ErrorMetadata.Authenticated);
        group.MapGet("/", ListAsync).WithName("ListWebhooks");
        group.MapPost("/", CreateAsync).WithName("CreateWebhook");
        group.MapGet("/{id:guid}", GetAsync).WithName("GetWebhook");
        group.MapPatch("/{id:guid}", UpdateAsync).WithName("UpdateWebhook");
        group.MapPut("/{id:guid}", UpdateAsync).WithName("ReplaceWebhook");
        group.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteWebhook");
        group.MapGet("/{id:guid}/deliveries", WebhookDeliveriesApi.ListAsync).WithName("ListWebhookDeliveries");
        return routes;
    }

    /// <summary><c>GET /webhooks</c>: the caller's webhooks, oldest first, paginated.</summary>
    public static async Task<Ok<List<WebhookResponse>>> ListAsync([AsParameters] PageRequest page, ClaimsPrincipal caller, RaworcDbContext db,
        HttpResponse response, CancellationToken cancellationToken)
    {
        var owner = OwnerOf(caller);
        var hooks = await db.Webhooks.AsNoTracking().Where(w => w.OperatorId == owner).OrderBy(w => w.Id)
            .PageAsync(page, response, w => w, cancellationToken);
        return TypedResults.Ok(hooks.Select(WebhookResponse.From).ToList());
    }

    /// <summary>
    /// <c>POST /webhooks</c> → 201 with the secret (shown this once). 422 for a bad URL (a private target included, unless
    /// <c>Webhooks:AllowPrivateTargets</c>) or event type; 409 past <see cref="WebhookRules.MaxPerOperator"/> webhooks.
    /// </summary>
    public static async Task<Results<Created<CreatedWebhookResponse>, UnprocessableEntity<ErrorResponse>, Conflict<ErrorResponse>>> CreateAsync(
        CreateWebhookRequest body, ClaimsPrincipal caller, RaworcDbContext db, WebhookSecrets secrets, IOptions<WebhookOptions> options,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        var owner = OwnerOf(caller);
        var validation = new Validation().When(body.Url is null, "url", "is required");
        await validation.CheckUrlAsync(body.Url, options.Value.AllowPrivateTargets, cancellationToken);
        validation.CheckEventTypes(body.EventTypes);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }
        if (await db.Webhooks.CountAsync(w => w.OperatorId == owner, cancellationToken) >= WebhookRules.MaxPerOperator)
        {
            return ApiErrors.Conflict($"An operator may have at most {WebhookRules.MaxPerOperator} webhooks.");
        }
        var now = clock.GetUtcNow();
        var secret = WebhookSecrets.NewSecret();
        var webhook = new Webhook
        {
            Id = Guid.CreateVersion7(), OperatorId = owner, Url = body.Url!, ProtectedSecret = secrets.Protect(secret),
            EventTypes = Normalize(body.EventTypes), Enabled = body.Enabled ?? true, CreatedAt = now, UpdatedAt = now,
        };
        db.Webhooks.Add(webhook);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v0/webhooks/{webhook.Id}",
            new CreatedWebhookResponse(webhook.Id, webhook.Url, webhook.EventTypes, webhook.Enabled, webhook.CreatedAt, secret));
    }

    /// <summary><c>GET /webhooks/{id}</c>; 404 unless it is the caller's.</summary>
    public static async Task<Results<Ok<WebhookResponse>, NotFound<ErrorResponse>>> GetAsync(Guid id, ClaimsPrincipal caller, RaworcDbContext db,
        CancellationToken cancellationToken) =>
        await FindAsync(db, id, caller, cancellationToken) is { } webhook
            ? TypedResults.Ok(WebhookResponse.From(webhook))
            : ApiErrors.NotFound("Webhook not found.");

    /// <summary>
    /// <c>PATCH</c> (or <c>PUT</c>) <c>/webhooks/{id}</c>: url, event types, enabled; no field is a 422. Enabling a disabled
    /// webhook clears its failure record and reason, and its pending deliveries are due at once.
    /// </summary>
    public static async Task<Results<Ok<WebhookResponse>, NotFound<ErrorResponse>, UnprocessableEntity<ErrorResponse>>> UpdateAsync(Guid id,
        UpdateWebhookRequest body, ClaimsPrincipal caller, RaworcDbContext db, IOptions<WebhookOptions> options, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .When(body is { Url: null, EventTypes: null, Enabled: null }, "body", "must set at least one of url, event_types, enabled");
        await validation.CheckUrlAsync(body.Url, options.Value.AllowPrivateTargets, cancellationToken);
        validation.CheckEventTypes(body.EventTypes);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }
        var owner = OwnerOf(caller);
        var webhook = await db.Webhooks.FirstOrDefaultAsync(w => w.Id == id && w.OperatorId == owner, cancellationToken);
        if (webhook is null)
        {
            return ApiErrors.NotFound("Webhook not found.");
        }
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        webhook.Url = body.Url ?? webhook.Url;
        webhook.EventTypes = body.EventTypes is null ? webhook.EventTypes : Normalize(body.EventTypes);
        if (body.Enabled is true && !webhook.Enabled)
        {
            webhook.Enabled = true;
            webhook.DisabledReason = null;
            webhook.DisabledAt = null;
            webhook.ConsecutiveFailures = 0;
            webhook.FailingSince = null;
            await db.WebhookDeliveries.Where(d => d.WebhookId == id && d.DeliveredAt == null)
                .ExecuteUpdateAsync(set => set.SetProperty(d => d.NextAttemptAt, now), cancellationToken);
        }
        else if (body.Enabled is false && webhook.Enabled)
        {
            webhook.Enabled = false;
            webhook.DisabledAt = now;
        }
        webhook.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(WebhookResponse.From(webhook));
    }

    /// <summary><c>DELETE /webhooks/{id}</c> → 204; its pending deliveries go with it.</summary>
    public static async Task<Results<NoContent, NotFound<ErrorResponse>>> DeleteAsync(Guid id, ClaimsPrincipal caller, RaworcDbContext db,
        CancellationToken cancellationToken)
    {
        var owner = OwnerOf(caller);
        var deleted = await db.Webhooks.Where(w => w.Id == id && w.OperatorId == owner).ExecuteDeleteAsync(cancellationToken);
        return deleted == 0 ? ApiErrors.NotFound("Webhook not found.") : TypedResults.NoContent();
    }

    /// <summary>The caller's webhook <paramref name="id"/>, or null.</summary>
    internal static Task<Webhook?> FindAsync(RaworcDbContext db, Guid id, ClaimsPrincipal caller, CancellationToken cancellationToken)
    {
        var owner = OwnerOf(caller);
        return db.Webhooks.AsNoTracking().FirstOrDefaultAsync(w => w.Id == id && w.OperatorId == owner, cancellationToken);
    }

    /// <summary>The caller's operator id.</summary>
    /// <exception cref="ApiException">403 for a token user: only operators own webhooks.</exception>
    private static Guid OwnerOf(ClaimsPrincipal caller) =>
        caller.OperatorId() ?? throw new ApiException(403, "Only operators can register webhooks.");

    private static string[] Normalize(string[]? types) =>
        types is null ? WebhookEventTypes.All : [.. WebhookEventTypes.All.Where(types.Contains)];

    private static async Task CheckUrlAsync(this Validation validation, string? url, bool allowPrivate, CancellationToken cancellationToken)
    {
        if (url is null)
        {
            return;
        }
        if (url.Length > WebhookRules.MaxUrlLength)
        {
            validation.Add("url", $"must be at most {WebhookRules.MaxUrlLength} characters");
        }
        else if (await WebhookTargets.ProblemAsync(url, allowPrivate, cancellationToken) is { } problem)
        {
            validation.Add("url", problem);
        }
    }

    private static void CheckEventTypes(this Validation validation, string[]? types)
    {
        if (types is null)
        {
            return;
        }
        validation.When(types.Length == 0, "event_types", "must name at least one event type");
        foreach (var type in types.Where(t => !WebhookEventTypes.All.Contains(t)).Distinct())
        {
            validation.Add("event_types", $"'{type}' is not one of {string.Join(", ", WebhookEventTypes.All)}");
        }
    }
}
