using Microsoft.AspNetCore.Http.HttpResults;

namespace Raworc.ApiService.Errors;

/// <summary>Typed results carrying the error envelope, for handlers' <c>Results&lt;…&gt;</c> unions.</summary>
public static class ApiErrors
{
    /// <summary>The envelope for a status, with the given message or the status's default one.</summary>
    public static ErrorResponse Body(int status, string? message = null, IReadOnlyDictionary<string, string[]>? details = null) =>
        new(new ErrorBody(ErrorCodes.ForStatus(status), message ?? ErrorCodes.DefaultMessage(status), details));

    /// <summary>400 <c>BAD_REQUEST</c>.</summary>
    public static BadRequest<ErrorResponse> BadRequest(string message) => TypedResults.BadRequest(Body(400, message));

    /// <summary>401 <c>UNAUTHORIZED</c>.</summary>
    public static JsonHttpResult<ErrorResponse> Unauthorized(string message) =>
        TypedResults.Json(Body(401, message), statusCode: StatusCodes.Status401Unauthorized);

    /// <summary>403 <c>FORBIDDEN</c>.</summary>
    public static JsonHttpResult<ErrorResponse> Forbidden(string message) =>
        TypedResults.Json(Body(403, message), statusCode: StatusCodes.Status403Forbidden);

    /// <summary>404 <c>NOT_FOUND</c>.</summary>
    public static NotFound<ErrorResponse> NotFound(string message) => TypedResults.NotFound(Body(404, message));

    /// <summary>409 <c>CONFLICT</c>.</summary>
    public static Conflict<ErrorResponse> Conflict(string message) => TypedResults.Conflict(Body(409, message));

    /// <summary>422 <c>VALIDATION_ERROR</c> with <c>details</c>.</summary>
    public static UnprocessableEntity<ErrorResponse> Validation(IReadOnlyDictionary<string, string[]> details) =>
        TypedResults.UnprocessableEntity(Body(422, "The request has invalid values.", details));
}
