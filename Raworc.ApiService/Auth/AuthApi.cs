using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Errors;
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
            .AllowAnonymous().WithName("Login").ProducesErrors(ErrorMetadata.JsonBody).ProducesErrors(401, 422, 429);
        auth.MapGet("/", GetAuth).RequireAuthorization().WithName("GetAuth").ProducesErrors(ErrorMetadata.Authenticated);
        auth.MapPost("/token", CreateTokenAsync).RequireAuthorization(AuthExtensions.AdminPolicy).WithName("CreateToken")
            .ProducesErrors(ErrorMetadata.Authenticated).ProducesErrors(ErrorMetadata.JsonBody).ProducesErrors(403, 404, 422);

        routes.MapPost("/api/v0/operators/{name}/login", (string name, LoginRequest body, OperatorLogin login, HttpContext http, CancellationToken ct) =>
                body.User is not null && body.User != name
                    ? Task.FromResult<Results<Ok<TokenResponse>, JsonHttpResult<ErrorResponse>, UnprocessableEntity<ErrorResponse>>>(
                        new Validation().Add("user", "must equal the operator name in the path").ToResult())
                    : login.LoginAsync(name, body, http, ct))
            .AllowAnonymous().WithTags("Auth").WithName("LoginOperator").ProducesErrors(ErrorMetadata.JsonBody).ProducesErrors(401, 422, 429);
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
