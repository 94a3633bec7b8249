using System.Text.Json.Serialization;

namespace Raworc.ApiService.Errors;

/// <summary>
/// The error envelope of the contract (spec/API.md "Conventions"):
/// <c>{"error":{"code":"NOT_FOUND","message":"…","details":{"field":["problem"]}}}</c>.
/// </summary>
/// <param name="Error">The error itself.</param>
public sealed record ErrorResponse(ErrorBody Error);

/// <summary>The inside of the error envelope.</summary>
/// <param name="Code">One of <see cref="ErrorCodes"/>.</param>
/// <param name="Message">A human-readable sentence; never exception text, a secret or a connection string.</param>
/// <param name="Details">For <c>VALIDATION_ERROR</c>: field name → problems; otherwise absent.</param>
public sealed record ErrorBody(
    string Code,
    string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string[]>? Details = null);

/// <summary>The error codes of the contract and the HTTP status each goes with.</summary>
public static class ErrorCodes
{
    /// <summary>400: unparseable JSON, a wrong JSON type, a bad query value.</summary>
    public const string BadRequest = "BAD_REQUEST";
    /// <summary>401: no valid token, or wrong credentials.</summary>
    public const string Unauthorized = "UNAUTHORIZED";
    /// <summary>403: authenticated but not allowed.</summary>
    public const string Forbidden = "FORBIDDEN";
    /// <summary>404: no such resource (or one the caller may not see), or no such route.</summary>
    public const string NotFound = "NOT_FOUND";
    /// <summary>405: the route exists but not with this method.</summary>
    public const string MethodNotAllowed = "METHOD_NOT_ALLOWED";
    /// <summary>409: the resource's current state forbids the request.</summary>
    public const string Conflict = "CONFLICT";
    /// <summary>413: the request body is over the limit (1 MiB).</summary>
    public const string PayloadTooLarge = "PAYLOAD_TOO_LARGE";
    /// <summary>415: the body is not <c>application/json</c>.</summary>
    public const string UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";
    /// <summary>422: well-formed but invalid values; <c>details</c> names the fields.</summary>
    public const string ValidationError = "VALIDATION_ERROR";
    /// <summary>429: too many requests.</summary>
    public const string RateLimited = "RATE_LIMITED";
    /// <summary>500: an unexpected failure; the message never carries exception text.</summary>
    public const string InternalError = "INTERNAL_ERROR";
    /// <summary>502: the model gateway could not reach the model provider.</summary>
    public const string BadGateway = "BAD_GATEWAY";
    /// <summary>503: a dependency (database, Redis, Docker) is unavailable.</summary>
    public const string ServiceUnavailable = "SERVICE_UNAVAILABLE";

    /// <summary>The code for an HTTP status the API produces.</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => BadRequest,
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        409 => Conflict,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        422 => ValidationError,
        429 => RateLimited,
        502 => BadGateway,
        503 => ServiceUnavailable,
        _ => InternalError,
    };

    /// <summary>A default message for a status when nothing more precise is known.</summary>
    public static string DefaultMessage(int status) => status switch
    {
        400 => "The request is malformed.",
        401 => "Authentication is required: send a valid bearer token.",
        403 => "You are not allowed to do this.",
        404 => "Resource not found.",
        405 => "This route does not accept that HTTP method.",
        409 => "The request conflicts with the resource's current state.",
        413 => "The request body is larger than 1 MiB.",
        415 => "The request body must be JSON (Content-Type: application/json).",
        422 => "The request has invalid values.",
        429 => "Too many requests.",
        502 => "The model provider could not be reached.",
        503 => "A service the API depends on is unavailable.",
        _ => "An internal error occurred.",
    };
}
