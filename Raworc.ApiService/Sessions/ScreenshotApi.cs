using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Auth;
using Raworc.ApiService.Computers;
using Raworc.ApiService.Errors;

namespace Raworc.ApiService.Sessions;

/// <summary><c>GET /api/v0/sessions/{id}/screenshot</c>: the current screen of a session's desktop, as PNG.</summary>
public static partial class ScreenshotApi
{
    /// <summary>Maps the endpoint.</summary>
    public static IEndpointRouteBuilder MapScreenshotApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v0/sessions/{id}/screenshot", GetAsync).WithTags("Sessions")
            .RequireAuthorization(AuthExtensions.PersonPolicy).WithName("GetSessionScreenshot")
            .ProducesErrors([.. ErrorMetadata.Authenticated, 403, 404, 409, 502])
            .Produces(StatusCodes.Status200OK, contentType: "image/png");
        return routes;
    }

    /// <summary>
    /// The screen as <c>image/png</c>, at the desktop's size (<see cref="ComputerOptions.DesktopWidth"/>×
    /// <see cref="ComputerOptions.DesktopHeight"/>). For the owner, an admin, or anyone when the session is published
    /// with its data (<c>publish_permissions.data</c>; otherwise 403). 409 when the session has no desktop or no running
    /// computer (a screenshot never starts one); 502 when the computer's answer is not a PNG of that size.
    /// </summary>
    public static async Task<Results<FileContentHttpResult, Conflict<ErrorResponse>, JsonHttpResult<ErrorResponse>>> GetAsync(string id,
        ClaimsPrincipal caller, RaworcDbContext db, IComputerProvider computers, IOptions<ComputerOptions> options,
        ILogger<ScreenshotReader> logger, CancellationToken cancellationToken)
    {
        var session = await db.FindAsync(id, caller, SessionRight.Read, cancellationToken);
        if (!(caller.IsAdmin() || caller.Owns(session) || session.PublishData))
        {
            throw new ApiException(403, "This published session does not share its data: its screen is not shown.");
        }
        if (!session.Desktop)
        {
            return ApiErrors.Conflict("This session has no desktop (create it with \"desktop\": true).");
        }
        if (session.State is not (SessionStates.Idle or SessionStates.Busy) || session.ContainerId is null)
        {
            return ApiErrors.Conflict($"The session's computer is not running (state {session.State}); restore it to see its screen.");
        }

        var (width, height) = (options.Value.DesktopWidth, options.Value.DesktopHeight);
        var png = await computers.CaptureScreenAsync(session.Id, ScreenImage.MaxBytes(width, height), cancellationToken);
        if (png is null)
        {
            return ApiErrors.Conflict("The session's computer is not running; restore it to see its screen.");
        }
        if (ScreenImage.Check(png, width, height) is { } problem)
        {
            LogRefused(logger, session.Id, problem, png.Length);
            return TypedResults.Json(ApiErrors.Body(502, "The session's desktop did not give a valid screenshot."), statusCode: StatusCodes.Status502BadGateway);
        }
        return TypedResults.File(png, "image/png");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Screenshot of session {SessionId} refused: {Problem} ({Bytes} bytes).")]
    private static partial void LogRefused(ILogger logger, Guid sessionId, string problem, int bytes);
}

/// <summary>The log category of <see cref="ScreenshotApi"/>.</summary>
public sealed class ScreenshotReader;
