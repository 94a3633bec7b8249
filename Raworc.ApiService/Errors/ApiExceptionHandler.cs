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
            // EF Core wraps a transient driver failure (53300 too many clients, a pool timeout) in an
            // InvalidOperationException when no retrying strategy runs: look through the chain.
            _ when IsUnavailable(exception) => (503, null, null),
            _ => (500, null, null),
        };

        if (status >= 500)
        {
            // In words only: messages of driver exceptions may name hosts and databases, and a type name helps no operator.
            logger.LogError("Request {Method} {Path} failed: {Reason}",
                httpContext.Request.Method, httpContext.Request.Path, FailureText.DescribeForLog(exception));
        }

        if (httpContext.Response.HasStarted)
        {
            return false;
        }

        httpContext.Response.StatusCode = status;
        if (status == 503)
        {
            // A dependency out of connections or briefly away: a client may try again shortly.
            httpContext.Response.Headers.RetryAfter = RetryAfterSeconds;
        }
        await httpContext.Response.WriteAsJsonAsync(ApiErrors.Body(status, message, details), cancellationToken);
        return true;
    }

    /// <summary>The <c>Retry-After</c> of a 503 (seconds): a pool frees a connection within that, typically.</summary>
    public const string RetryAfterSeconds = "1";

    /// <summary>
    /// True when the failure, or one it wraps, is the database or Redis being unavailable: a driver exception (Postgres
    /// out of connections, 53300; the pool exhausted; a broken connection) or a timeout.
    /// </summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is NpgsqlException or RedisException or TimeoutException)
            {
                return true;
            }
        }
        return false;
    }

    // 22021 character_not_in_repertoire (U+0000 in text), 22P05 untranslatable_character (\u0000 in jsonb). The whole chain,
    // as IsUnavailable reads it: a PostgresException is an NpgsqlException, so one wrapped deeper was answered 503.
    private static bool IsUnstorableText(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is PostgresException { SqlState: PostgresErrorCodes.CharacterNotInRepertoire or PostgresErrorCodes.UntranslatableCharacter })
            {
                return true;
            }
        }
        return false;
    }
}
