using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Operators;
using Raworc.ApiService.Platform;

namespace Raworc.ApiService.Auth;

/// <summary>Login, token introspection and admin-issued tokens (spec/API.md "Principals and tokens").</summary>
public static class AuthApi
{
    /// <summary>The one message for a wrong password, an unknown operator and an inactive one.</summary>
    public const string InvalidCredentials = "Invalid user name or password.";

    /// <summary>Bounds of <c>ttl_seconds</c> in <c>POST /auth/token</c>: one minute to one year.</summary>
    public const long MinTtlSeconds = 60, MaxTtlSeconds = 365L * 24 * 3600;

    /// <summary>Maps <c>/api/v0/auth…</c> and <c>/api/v0/operators/{name}/login</c>.</summary>
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder routes)
    {
        var auth = routes.MapGroup("/api/v0/auth").WithTags("Auth");
        auth.MapPost("/login", (LoginRequest body, OperatorLogin login, HttpContext http, CancellationToken ct) =>
                login.LoginAsync(body.User, body, http, ct))
            .AllowAnonymous().WithName("Login");
        auth.MapGet("/", GetAuth).RequireAuthorization().WithName("GetAuth");
        auth.MapPost("/token", CreateTokenAsync).RequireAuthorization(AuthExtensions.AdminPolicy).WithName("CreateToken");

        routes.MapPost("/api/v0/operators/{name}/login", (string name, LoginRequest body, OperatorLogin login, HttpContext http, CancellationToken ct) =>
                body.User is not null && body.User != name
                    ? Task.FromResult<Results<Ok<TokenResponse>, JsonHttpResult<ErrorResponse>, UnprocessableEntity<ErrorResponse>>>(
                        new Validation().Add("user", "must equal the operator name in the path").ToResult())
                    : login.LoginAsync(name, body, http, ct))
            .AllowAnonymous().WithTags("Auth").WithName("LoginOperator");
        return routes;
    }

    /// <summary><c>GET /auth</c>: the caller's name, type, role and token expiry.</summary>
    public static Ok<AuthInfoResponse> GetAuth(ClaimsPrincipal user) =>
        TypedResults.Ok(new AuthInfoResponse(user.Name(), user.Type(), user.IsAdmin() ? Roles.Admin : Roles.User, user.ExpiresAt()));

    /// <summary><c>POST /auth/token</c>: a token for any principal, issued by an admin.</summary>
    public static async Task<Results<Ok<TokenResponse>, NotFound<ErrorResponse>, UnprocessableEntity<ErrorResponse>>> CreateTokenAsync(
        TokenRequest body, RaworcDbContext db, TokenService tokens, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .When(string.IsNullOrWhiteSpace(body.Principal), "principal", "is required")
            .When(body.Principal is { Length: > 255 }, "principal", "must be at most 255 characters")
            .When(body.Principal is not null && body.Principal.Any(char.IsControl), "principal", "must not contain control characters")
            .When(body.Type is not (PrincipalTypes.User or PrincipalTypes.Operator), "type", "must be \"User\" or \"Operator\"")
            .When(body.TtlSeconds is < MinTtlSeconds or > MaxTtlSeconds, "ttl_seconds", $"must be between {MinTtlSeconds} and {MaxTtlSeconds}");
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }

        var lifetime = body.TtlSeconds is { } ttl ? TimeSpan.FromSeconds(ttl) : (TimeSpan?)null;
        if (body.Type == PrincipalTypes.User)
        {
            var (userToken, userExpires) = tokens.Issue(body.Principal!, PrincipalTypes.User, lifetime);
            return TypedResults.Ok(new TokenResponse(userToken, "Bearer", userExpires, body.Principal!, Roles.User));
        }

        var target = await db.Operators.AsNoTracking()
            .FirstOrDefaultAsync(o => o.Name == body.Principal && o.IsActive, cancellationToken);
        if (target is null)
        {
            return ApiErrors.NotFound($"No active operator named '{body.Principal}'.");
        }
        var (token, expires) = tokens.IssueForOperator(target, lifetime);
        return TypedResults.Ok(new TokenResponse(token, "Bearer", expires, target.Name, target.IsAdmin ? Roles.Admin : Roles.User));
    }
}

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
