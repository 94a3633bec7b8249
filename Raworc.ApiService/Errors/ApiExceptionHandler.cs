using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;
using StackExchange.Redis;

namespace Raworc.ApiService.Errors;

/// <summary>
/// The one place exceptions become responses: every failure leaves as the contract's error envelope,
/// and none carries exception text, a stack trace or a connection string.
/// </summary>
public sealed class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    /// <inheritdoc />
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, message, details) = exception switch
        {
            ApiException api => (api.Status, api.Message, api.Details),
            BadHttpRequestException { StatusCode: 400, InnerException: JsonException json } =>
                (400, BindingFailures.DescribeBody(httpContext, json), null),
            BadHttpRequestException { StatusCode: 400 } => (400, BindingFailures.Describe(httpContext), null),
            // 413, 415 and the like: the status's own message; the framework's text names .NET types.
            BadHttpRequestException bad => (bad.StatusCode, null, null),
            // Every text field is checked before the database sees it; this catches one a future change forgets.
            _ when IsUnstorableText(exception) => (422, "A text value holds a character the database cannot store (U+0000).",
                new Dictionary<string, string[]> { ["body"] = [Platform.TextRules.NulProblem] }),
            NpgsqlException or RedisException or TimeoutException => (503, null, null),
            _ => (500, null, null),
        };

        if (status >= 500)
        {
            // Only the exception type: messages of driver exceptions may name hosts and databases.
            logger.LogError("Request {Method} {Path} failed with {ExceptionType}",
                httpContext.Request.Method, httpContext.Request.Path, exception.GetType().FullName);
        }

        if (httpContext.Response.HasStarted)
        {
            return false;
        }

        httpContext.Response.StatusCode = status;
        await httpContext.Response.WriteAsJsonAsync(ApiErrors.Body(status, message, details), cancellationToken);
        return true;
    }

    // 22021 character_not_in_repertoire (U+0000 in text), 22P05 untranslatable_character (\u0000 in jsonb).
    private static bool IsUnstorableText(Exception exception) =>
        (exception as PostgresException ?? exception.InnerException as PostgresException)?.SqlState is
            PostgresErrorCodes.CharacterNotInRepertoire or PostgresErrorCodes.UntranslatableCharacter;
}
