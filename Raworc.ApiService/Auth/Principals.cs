using System.Security.Claims;

namespace Raworc.ApiService.Auth;

/// <summary>The kinds of principal a token can name (claim <c>sub_type</c>).</summary>
public static class PrincipalTypes
{
    /// <summary>A stored account that logs in with a password.</summary>
    public const string Operator = "Operator";

    /// <summary>A principal that exists only inside a token an admin created.</summary>
    public const string User = "User";

    /// <summary>The agent of one session; its token carries <see cref="RaworcClaims.SessionId"/>.</summary>
    public const string Host = "Host";

    /// <summary>
    /// The agent of a warm-pool computer before any session claimed it; its token carries <see cref="RaworcClaims.PoolId"/>
    /// and is accepted only on endpoints marked <see cref="PoolRouteAttribute"/> (the claim route).
    /// </summary>
    public const string Pool = "Pool";
}

/// <summary>Claim names of Raworc tokens beyond the registered JWT ones.</summary>
public static class RaworcClaims
{
    /// <summary>Principal name (registered <c>sub</c>).</summary>
    public const string Subject = "sub";

    /// <summary>One of <see cref="PrincipalTypes"/>.</summary>
    public const string SubjectType = "sub_type";

    /// <summary>For operators: the operator row's id, so a deleted-and-recreated name does not revive old tokens.</summary>
    public const string OperatorId = "oid";

    /// <summary>
    /// For operators: the operator's token generation when the token was issued (<c>Operator.TokenGeneration</c>); a
    /// token of an earlier generation is refused. Tokens without it are of generation 0.
    /// </summary>
    public const string TokenGeneration = "gen";

    /// <summary>For Host tokens: the one session the token may act on.</summary>
    public const string SessionId = "session_id";

    /// <summary>
    /// For Host tokens: the start of the session's computer the token was issued for (an integer,
    /// <c>Session.ComputerStart</c>); a token of any other start is refused.
    /// </summary>
    public const string ComputerStart = "start";

    /// <summary>For pool tokens: the warm computer's reserved session id (see <see cref="Computers.WarmComputer"/>).</summary>
    public const string PoolId = "pool_id";

    /// <summary><c>admin</c> or <c>user</c>; added on each request from the database, never trusted from the token.</summary>
    public const string Role = "raworc_role";
}

/// <summary>Role names on the wire.</summary>
public static class Roles
{
    /// <summary>An admin operator.</summary>
    public const string Admin = "admin";

    /// <summary>Anyone else.</summary>
    public const string User = "user";
}

/// <summary>Reads the caller from a validated principal.</summary>
public static class PrincipalExtensions
{
    /// <summary>The principal name (<c>sub</c>).</summary>
    public static string Name(this ClaimsPrincipal principal) =>
        principal.FindFirstValue(RaworcClaims.Subject) ?? throw new InvalidOperationException("The token has no subject.");

    /// <summary>The principal type (<c>sub_type</c>).</summary>
    public static string Type(this ClaimsPrincipal principal) =>
        principal.FindFirstValue(RaworcClaims.SubjectType) ?? throw new InvalidOperationException("The token has no subject type.");

    /// <summary>True for an active admin operator (checked against the database on this request).</summary>
    public static bool IsAdmin(this ClaimsPrincipal principal) => principal.HasClaim(RaworcClaims.Role, Roles.Admin);

    /// <summary>The operator row of an operator token (<c>oid</c>), or null for other principals.</summary>
    public static Guid? OperatorId(this ClaimsPrincipal principal) =>
        principal.Type() == PrincipalTypes.Operator && Guid.TryParse(principal.FindFirstValue(RaworcClaims.OperatorId), out var id)
            ? id
            : null;

    /// <summary>The session of a Host token, or null for other principals.</summary>
    public static Guid? HostSessionId(this ClaimsPrincipal principal) =>
        principal.Type() == PrincipalTypes.Host && Guid.TryParse(principal.FindFirstValue(RaworcClaims.SessionId), out var id)
            ? id
            : null;

    /// <summary>Token expiry (<c>exp</c>) as a UTC time.</summary>
    public static DateTimeOffset ExpiresAt(this ClaimsPrincipal principal) =>
        DateTimeOffset.FromUnixTimeSeconds(long.Parse(principal.FindFirstValue("exp") ?? "0", System.Globalization.CultureInfo.InvariantCulture));
}
