using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Auth;

/// <summary>JWT bearer authentication and the authorization policies, declared once.</summary>
public static class AuthExtensions
{
    /// <summary>Policy: an active admin operator.</summary>
    public const string AdminPolicy = "admin";

    /// <summary>Policy: an operator or a user (any principal but a session's Host).</summary>
    public const string PersonPolicy = "person";

    /// <summary>Registers token options (validated at start), the token service, JWT bearer and the policies.</summary>
    public static WebApplicationBuilder AddRaworcAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<JwtOptions>()
            .BindConfiguration(JwtOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.SigningKey is null || o.SigningKey.Length == 0 || Encoding.UTF8.GetByteCount(o.SigningKey) >= JwtOptions.MinKeyBytes,
                $"Jwt:SigningKey must be at least {JwtOptions.MinKeyBytes} bytes (the AppHost parameter jwt-signing-key).")
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<TokenService>();
        builder.Services.AddSingleton<PrincipalCache>();
        builder.Services.AddHostedService(services => services.GetRequiredService<PrincipalCache>());

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<JwtOptions>>((bearer, jwt) =>
            {
                bearer.MapInboundClaims = false;
                bearer.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = jwt.Value.Issuer,
                    ValidAudience = jwt.Value.Audience,
                    IssuerSigningKey = TokenService.SigningKey(jwt.Value),
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    ClockSkew = TimeSpan.FromSeconds(5),
                    NameClaimType = RaworcClaims.Subject,
                    RoleClaimType = RaworcClaims.Role,
                };
                bearer.Events = new JwtBearerEvents
                {
                    OnMessageReceived = Models.ModelGatewayApi.ReadTokenFromApiKeyHeader,
                    OnTokenValidated = CheckPrincipalIsCurrentAsync,
                    OnChallenge = WriteChallengeAsync,
                    OnForbidden = context => WriteErrorAsync(context.HttpContext, 403, "You are not allowed to do this."),
                };
            });

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, policy => policy.RequireClaim(RaworcClaims.Role, Roles.Admin))
            .AddPolicy(PersonPolicy, policy => policy.RequireClaim(RaworcClaims.SubjectType, PrincipalTypes.Operator, PrincipalTypes.User));
        return builder;
    }

    // Every request of a Host runs it: compiled once, so its translation is not looked up per request. It reads the whole
    // row, which the request's handler then takes from the request's features instead of reading it again (CheckedHostSession).
    private static readonly Func<RaworcDbContext, Guid, int, CancellationToken, Task<Session?>> LiveHostSession = EF.CompileAsyncQuery(
        (RaworcDbContext db, Guid sessionId, int start, CancellationToken _) => db.Sessions.AsNoTracking().FirstOrDefault(s => s.Id == sessionId
            && s.ComputerStart == start && (s.State == SessionStates.Init || s.State == SessionStates.Idle || s.State == SessionStates.Busy)));

    /// <summary>
    /// Refuses tokens whose principal is gone: an operator deleted, deactivated or recreated under the same
    /// name, or whose tokens were revoked (a password change or a revoke raised its token generation). The role is read from the database here (through <see cref="PrincipalCache"/>, which every operator change invalidates), so a demotion takes effect on the next request.
    /// </summary>
    private static async Task CheckPrincipalIsCurrentAsync(TokenValidatedContext context)
    {
        var principal = context.Principal!;
        var identity = (ClaimsIdentity)principal.Identity!;
        switch (principal.FindFirstValue(RaworcClaims.SubjectType))
        {
            case PrincipalTypes.Operator:
                var services = context.HttpContext.RequestServices;
                var name = principal.FindFirstValue(RaworcClaims.Subject);
                _ = Guid.TryParse(principal.FindFirstValue(RaworcClaims.OperatorId), out var operatorId);
                // Tokens issued before generations existed carry none: they are generation 0.
                var generation = 0;
                if (principal.FindFirstValue(RaworcClaims.TokenGeneration) is { } claimed
                    && !int.TryParse(claimed, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out generation))
                {
                    context.Fail("The token's generation is malformed.");
                    return;
                }
                var current = await services.GetRequiredService<PrincipalCache>().GetAsync(
                    services.GetRequiredService<RaworcDbContext>(), operatorId, context.HttpContext.RequestAborted);
                if (current is null || current.Name != name || !current.IsActive || current.TokenGeneration != generation)
                {
                    context.Fail("The operator no longer exists, is inactive, or revoked its tokens.");
                    return;
                }
                identity.AddClaim(new Claim(RaworcClaims.Role, current.IsAdmin ? Roles.Admin : Roles.User));
                break;
            case PrincipalTypes.User:
                identity.AddClaim(new Claim(RaworcClaims.Role, Roles.User));
                break;
            case PrincipalTypes.Host when Guid.TryParse(principal.FindFirstValue(RaworcClaims.SessionId), out var sessionId)
                && int.TryParse(principal.FindFirstValue(RaworcClaims.ComputerStart), System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out var start):
                // A Host token is good for one start of one live computer: a close, an error or a restore raises
                // the start, so an agent of an earlier start (still stopping, say) changes nothing.
                if (await LiveHostSession(context.HttpContext.RequestServices.GetRequiredService<RaworcDbContext>(), sessionId, start,
                    context.HttpContext.RequestAborted) is not { } live)
                {
                    context.Fail("The token's session no longer exists or its computer has stopped.");
                    return;
                }
                context.HttpContext.Features.Set(new CheckedHostSession(live));
                identity.AddClaim(new Claim(RaworcClaims.Role, Roles.User));
                break;
            case PrincipalTypes.Pool when context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<PoolRouteAttribute>() is not null:
                // A pool token grants the claim route and nothing else; the route itself checks that the computer is pooled.
                break;
            default:
                context.Fail("Unknown principal type.");
                break;
        }
    }

    private static Task WriteChallengeAsync(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var message = context.AuthenticateFailure switch
        {
            null when string.IsNullOrEmpty(context.Request.Headers.Authorization) => "Authentication is required: send a bearer token.",
            SecurityTokenExpiredException => "The token has expired.",
            null => "The bearer token is missing or malformed.",
            _ => "The token is not valid.",
        };
        return WriteErrorAsync(context.HttpContext, 401, message);
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return context.Response.WriteAsJsonAsync(ApiErrors.Body(status, message), context.RequestAborted);
    }
}
