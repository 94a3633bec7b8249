using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Raworc.ApiService.Auth;

/// <summary>A token as the login endpoints return it.</summary>
/// <param name="Token">The signed JWT.</param>
/// <param name="TokenType">Always <c>Bearer</c>.</param>
/// <param name="ExpiresAt">When the token stops working (UTC).</param>
/// <param name="User">The principal name.</param>
/// <param name="Role"><c>admin</c> or <c>user</c>.</param>
public sealed record TokenResponse(string Token, string TokenType, DateTimeOffset ExpiresAt, string User, string Role);

/// <summary>Issues HS256 JWTs with issuer, audience, <c>sub</c>, <c>sub_type</c>, <c>iat</c> and <c>exp</c>.</summary>
public sealed class TokenService(IOptions<JwtOptions> options, TimeProvider clock)
{
    private readonly JsonWebTokenHandler _handler = new();

    /// <summary>The key tokens are signed and validated with.</summary>
    public static SymmetricSecurityKey SigningKey(JwtOptions options) => new(Encoding.UTF8.GetBytes(options.SigningKey));

    /// <summary>Issues an operator token: its name, row id (<c>oid</c>) and current token generation (<c>gen</c>).</summary>
    /// <param name="account">The operator, as just read from the database.</param>
    /// <param name="lifetime">Token lifetime; the configured default (24 h) when null.</param>
    public (string Token, DateTimeOffset ExpiresAt) IssueForOperator(Operators.Operator account, TimeSpan? lifetime = null) =>
        Issue(account.Name, PrincipalTypes.Operator, lifetime, new Dictionary<string, object>
        {
            [RaworcClaims.OperatorId] = account.Id.ToString(),
            [RaworcClaims.TokenGeneration] = account.TokenGeneration,
        });

    /// <summary>Issues a token for <paramref name="name"/> of <paramref name="type"/>.</summary>
    /// <param name="name">Principal name, written as <c>sub</c>.</param>
    /// <param name="type">One of <see cref="PrincipalTypes"/>.</param>
    /// <param name="lifetime">Token lifetime; the configured default (24 h) when null.</param>
    /// <param name="extraClaims">Further claims (operator id, session id).</param>
    public (string Token, DateTimeOffset ExpiresAt) Issue(string name, string type, TimeSpan? lifetime = null,
        IReadOnlyDictionary<string, object>? extraClaims = null)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow();
        // JWT times are whole seconds; report exactly what the token says.
        var expires = DateTimeOffset.FromUnixTimeSeconds((now + (lifetime ?? settings.Lifetime)).ToUnixTimeSeconds());
        var claims = new Dictionary<string, object>
        {
            [RaworcClaims.Subject] = name,
            [RaworcClaims.SubjectType] = type,
            ["jti"] = Guid.NewGuid().ToString("N"),
        };
        foreach (var (key, value) in extraClaims ?? new Dictionary<string, object>())
        {
            claims[key] = value;
        }

        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = settings.Issuer,
            Audience = settings.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(SigningKey(settings), SecurityAlgorithms.HmacSha256),
        });
        return (token, expires);
    }
}
