namespace Raworc.ApiService.Auth;

/// <summary>Body of <c>POST /auth/login</c> and <c>POST /operators/{name}/login</c>.</summary>
/// <param name="User">Operator name; in the per-operator route it may be omitted, and must equal the route's name when given.</param>
/// <param name="Pass">Password.</param>
public sealed record LoginRequest(string? User, string? Pass);

/// <summary>Body of <c>POST /auth/token</c> (admin only).</summary>
/// <param name="Principal">Name the token is for (1–255 printable characters).</param>
/// <param name="Type"><c>User</c> or <c>Operator</c> (an existing active operator).</param>
/// <param name="TtlSeconds">Lifetime in seconds, 60…31,536,000; the default lifetime (24 h) when absent.</param>
public sealed record TokenRequest(string? Principal, string? Type, long? TtlSeconds);

/// <summary>Body of <c>GET /auth</c>: who the token belongs to.</summary>
/// <param name="User">Principal name.</param>
/// <param name="Type"><c>Operator</c>, <c>User</c> or <c>Host</c>.</param>
/// <param name="Role"><c>admin</c> or <c>user</c>.</param>
/// <param name="ExpiresAt">Token expiry (UTC).</param>
public sealed record AuthInfoResponse(string User, string Type, string Role, DateTimeOffset ExpiresAt);
