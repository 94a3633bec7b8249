using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Operators;
using Raworc.ApiService.Platform;

namespace Raworc.ApiService.Auth;

/// <summary>Password login for operators.</summary>
public sealed class OperatorLogin(RaworcDbContext db, IPasswordHasher<Operator> hasher, TokenService tokens, TimeProvider clock,
    LoginThrottle throttle)
{
    // Verifying against a real hash when the operator does not exist keeps the response time the same,
    // so timing does not reveal which names exist.
    private static readonly Lazy<string> DecoyHash = new(() =>
        new PasswordHasher<Operator>().HashPassword(new Operator { Name = "decoy", PasswordHash = "" }, Guid.NewGuid().ToString()));

    /// <summary>
    /// Checks the password of <paramref name="name"/> and issues an operator token; 401 with one message for every failure,
    /// 429 with <c>Retry-After</c> once the name or the caller's address has used up its failed logins (<see cref="LoginThrottle"/>).
    /// </summary>
    public async Task<Results<Ok<TokenResponse>, JsonHttpResult<ErrorResponse>, UnprocessableEntity<ErrorResponse>>> LoginAsync(
        string? name, LoginRequest body, HttpContext http, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .When(string.IsNullOrEmpty(name), "user", "is required")
            .CheckText("user", name)
            .When(string.IsNullOrEmpty(body.Pass), "pass", "is required");
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }

        using var attempt = await throttle.BeginAsync(name!, http.Connection.RemoteIpAddress, cancellationToken);
        if (attempt.RetryAfter is { } wait)
        {
            http.Response.Headers.RetryAfter = RateLimits.RetryAfterSeconds(wait).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Json(ApiErrors.Body(429, "Too many failed logins for this operator or from this address; try again later."),
                statusCode: StatusCodes.Status429TooManyRequests);
        }

        var account = await db.Operators.FirstOrDefaultAsync(o => o.Name == name, cancellationToken);
        if (account is null || !account.IsActive)
        {
            hasher.VerifyHashedPassword(new Operator { Name = "decoy", PasswordHash = "" }, DecoyHash.Value, body.Pass!);
            attempt.Fail();
            return ApiErrors.Unauthorized(AuthApi.InvalidCredentials);
        }

        var verdict = hasher.VerifyHashedPassword(account, account.PasswordHash, body.Pass!);
        if (verdict == PasswordVerificationResult.Failed)
        {
            attempt.Fail();
            return ApiErrors.Unauthorized(AuthApi.InvalidCredentials);
        }
        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            account.PasswordHash = hasher.HashPassword(account, body.Pass!);
        }
        account.LastLoginAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);

        var (token, expires) = tokens.IssueForOperator(account);
        return TypedResults.Ok(new TokenResponse(token, "Bearer", expires, account.Name, account.IsAdmin ? Roles.Admin : Roles.User));
    }
}
