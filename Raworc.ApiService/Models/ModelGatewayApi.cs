using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Auth;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Sessions;
using Yarp.ReverseProxy.Forwarder;

namespace Raworc.ApiService.Models;

/// <summary>
/// The model gateway: <c>/api/v0/sessions/{id}/model/anthropic/{path}</c> and <c>…/model/openai/{path}</c> forward a
/// session's model calls to the provider with the platform's (or the session's own) key, so no key enters a computer.
/// Only that session's Host token is accepted (as a bearer token or as <c>x-api-key</c>); anyone else gets 404.
/// </summary>
public static class ModelGatewayApi
{
    /// <summary>Largest request body the gateway accepts, in bytes (32 MiB: long conversations with images); larger is a 413.</summary>
    public const long MaxRequestBodyBytes = 32 * 1024 * 1024;

    // What the SDKs call; nothing else of the provider's API (files, batches, fine-tuning) is reachable with the platform's key.
    private static readonly Dictionary<string, HashSet<string>> Allowed = new()
    {
        [ModelGatewayContract.Anthropic] = ["POST v1/messages", "POST v1/messages/count_tokens", "GET v1/models"],
        [ModelGatewayContract.OpenAI] = ["POST chat/completions", "POST responses", "POST completions", "POST embeddings", "GET models"],
    };

    private static readonly ForwarderRequestConfig RequestConfig = new() { ActivityTimeout = TimeSpan.FromMinutes(10) };

    /// <summary>Maps both providers' routes, marked <see cref="HostRouteAttribute"/>, for any authenticated caller (checked in the handler).</summary>
    public static IEndpointRouteBuilder MapModelGatewayApi(this IEndpointRouteBuilder routes)
    {
        var gateway = routes.MapGroup("/api/v0/sessions/{id}/model").WithTags("Model gateway").RequireAuthorization()
            .WithMetadata(new HostRouteAttribute(), new ModelGatewayEndpoint()).ExcludeFromDescription();
        foreach (var provider in Allowed.Keys)
        {
            gateway.MapMethods($"/{provider}/{{**path}}", [HttpMethods.Get, HttpMethods.Post],
                    (string id, string? path, HttpContext context, ClaimsPrincipal caller, RaworcDbContext db, SessionSecrets secrets,
                        IOptions<PlatformModelOptions> models, IHttpForwarder forwarder, ModelGatewayClient client, ILogger<ModelGatewayClient> logger) =>
                    ForwardAsync(new GatewayCall(provider, id, path ?? ""), context, caller, db, secrets, models.Value, forwarder, client, logger))
                .WithName(provider == ModelGatewayContract.Anthropic ? "ForwardAnthropic" : "ForwardOpenAI");
        }
        return routes;
    }

    /// <summary>
    /// JWT bearer hook: on gateway routes a request without <c>Authorization</c> may carry its token in <c>x-api-key</c>,
    /// where the Anthropic SDK puts its key.
    /// </summary>
    public static Task ReadTokenFromApiKeyHeader(MessageReceivedContext context)
    {
        if (context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<ModelGatewayEndpoint>() is not null
            && context.Request.Headers.Authorization.Count == 0
            && context.Request.Headers["x-api-key"] is [{ Length: > 0 } token])
        {
            context.Token = token;
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Forwards one call and adds its usage to the session. 404 unless the caller is the Host of session <c>{id}</c> and the
    /// method and path are ones the SDKs use; 502 when the provider cannot be reached (before any byte of an answer).
    /// </summary>
    public static async Task<Results<EmptyHttpResult, NotFound<ErrorResponse>, JsonHttpResult<ErrorResponse>>> ForwardAsync(
        GatewayCall call, HttpContext context, ClaimsPrincipal caller, RaworcDbContext db, SessionSecrets secrets,
        PlatformModelOptions models, IHttpForwarder forwarder, ModelGatewayClient client, ILogger logger)
    {
        var sessionId = caller.HostSessionId();
        // The Host token's check has read the row at the start of this request.
        var session = sessionId is null ? null : context.Features.Get<CheckedHostSession>()?.Session is { } read && read.Id == sessionId
            ? new { read.Id, read.Name, read.ProtectedSecrets }
            : await db.Sessions.AsNoTracking().Where(s => s.Id == sessionId)
                .Select(s => new { s.Id, s.Name, s.ProtectedSecrets }).FirstOrDefaultAsync(context.RequestAborted);
        if (session is null || !(Guid.TryParse(call.Id, out var id) ? id == session.Id : call.Id == session.Name))
        {
            return ApiErrors.NotFound("Session not found.");
        }
        if (!Allowed[call.Provider].Contains($"{context.Request.Method} {call.Path}"))
        {
            return ApiErrors.NotFound($"The model gateway does not forward {context.Request.Method} {call.Path}.");
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxRequestBodyBytes;
        }

        var sessionSecrets = secrets.Unprotect(session.ProtectedSecrets);
        // Only the provider the session's agent was given: a session must not spend the platform's key of another one.
        if (Work.ComputerWork.ModelProviderFor(models, sessionSecrets) != call.Provider)
        {
            return ApiErrors.NotFound($"This session's model provider is not {call.Provider}.");
        }
        var upstream = ModelUpstream.For(call.Provider, models, sessionSecrets);
        var meter = new ModelUsageMeter(call.Provider);
        var body = context.Response.Body;
        context.Response.Body = new UsageTapStream(body, context.Response, meter);
        ForwarderError error;
        try
        {
            error = await forwarder.SendAsync(context, upstream.BaseUrl, client.Invoker, RequestConfig, new ModelGatewayTransformer(upstream, call.Path));
        }
        finally
        {
            context.Response.Body = body;
        }

        if ((error is ForwarderError.None or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient)
            && context.Response.StatusCode is >= 200 and < 300)
        {
            // The provider answered (and bills) even when the caller left before the end.
            await ModelUsageRecorder.AddAsync(db, session.Id, meter.Complete());
        }
        if (error == ForwarderError.None)
        {
            return TypedResults.Empty;
        }
        if (!context.RequestAborted.IsCancellationRequested)
        {
            ModelGatewayLog.ForwardFailed(logger, call.Provider, error);
        }
        return context.Response.HasStarted
            ? TypedResults.Empty
            : TypedResults.Json(ApiErrors.Body(502, "The model provider could not be reached."), statusCode: StatusCodes.Status502BadGateway);
    }

    /// <summary>Endpoint metadata of the gateway's own routes (where <c>x-api-key</c> may carry the Host token).</summary>
    public sealed class ModelGatewayEndpoint;
}

/// <summary>One gateway request's route values.</summary>
/// <param name="Provider"><c>anthropic</c> or <c>openai</c>.</param>
/// <param name="Id">The <c>{id}</c> of the path: the session's UUID or name.</param>
/// <param name="Path">The provider path after <c>/model/{provider}/</c>, e.g. <c>v1/messages</c>.</param>
public sealed record GatewayCall(string Provider, string Id, string Path);
