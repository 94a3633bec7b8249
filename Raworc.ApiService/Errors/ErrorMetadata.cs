using Microsoft.AspNetCore.Http.Metadata;

namespace Raworc.ApiService.Errors;

/// <summary>
/// Declares the error statuses a route or group can answer, each with the contract's envelope
/// (<see cref="ErrorResponse"/>, <c>application/json</c>), so the OpenAPI document lists them beside the typed results.
/// Many errors are thrown as <see cref="ApiException"/> from shared helpers (session access, paging) or written by
/// middleware (authentication, rate limits, body limits), which a handler's <c>Results&lt;…&gt;</c> union cannot show.
/// </summary>
public static class ErrorMetadata
{
    /// <summary>The statuses of any JSON body: 400 (malformed, unknown or repeated field, wrong type), 413 (over 1 MiB), 415 (not JSON).</summary>
    public static readonly int[] JsonBody = [400, 413, 415];

    /// <summary>The statuses of any authenticated route: 401 (no valid token), 429 (the principal's request budget is spent).</summary>
    public static readonly int[] Authenticated = [401, 429];

    /// <summary>Adds a <see cref="ErrorResponse"/> response for each of <paramref name="statuses"/>.</summary>
    public static TBuilder ProducesErrors<TBuilder>(this TBuilder builder, params int[] statuses) where TBuilder : IEndpointConventionBuilder
    {
        foreach (var status in statuses)
        {
            builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ErrorResponse), ["application/json"])
            {
                Description = $"{ErrorCodes.ForStatus(status)}: {ErrorCodes.DefaultMessage(status)}",
            });
        }
        return builder;
    }

    /// <summary>The error statuses declared on an endpoint by <see cref="ProducesErrors{TBuilder}"/> or a typed result.</summary>
    public static IEnumerable<int> DeclaredErrors(this Endpoint endpoint) =>
        endpoint.Metadata.OfType<IProducesResponseTypeMetadata>()
            .Where(m => m.StatusCode >= 400 && m.Type == typeof(ErrorResponse)).Select(m => m.StatusCode).Distinct();
}
