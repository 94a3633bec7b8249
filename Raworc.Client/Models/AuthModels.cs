namespace Raworc.Client.Models;

/// <summary>Body of <c>GET /version</c>.</summary>
/// <param name="Version">Server version (semver).</param>
/// <param name="Api">API version, <c>v0</c>.</param>
public sealed record VersionInfo(string Version, string Api);

/// <summary>A token, as <c>POST /operators/{name}/login</c> and <c>POST /auth/token</c> answer.</summary>
/// <param name="Token">The JWT to send as <c>Authorization: Bearer …</c>.</param>
/// <param name="TokenType">Always <c>Bearer</c>.</param>
/// <param name="ExpiresAt">When the token stops working (UTC; 24 h after login by default).</param>
/// <param name="User">The principal's name.</param>
/// <param name="Role"><c>admin</c> or <c>user</c>.</param>
public sealed record LoginResult(string Token, string TokenType, DateTimeOffset ExpiresAt, string? User, string? Role);

/// <summary>Body of <c>GET /auth</c>: who a token belongs to.</summary>
/// <param name="User">Principal name.</param>
/// <param name="Type"><c>Operator</c>, <c>User</c> or <c>Host</c>.</param>
/// <param name="Role"><c>admin</c> or <c>user</c>.</param>
/// <param name="ExpiresAt">Token expiry (UTC).</param>
public sealed record AuthInfo(string User, string Type, string Role, DateTimeOffset ExpiresAt);

/// <summary>Body sent to <c>POST /operators/{name}/login</c>.</summary>
/// <param name="Pass">The operator's password.</param>
internal sealed record LoginBody(string Pass);

/// <summary>The contract's error envelope, as read.</summary>
internal sealed record ErrorEnvelope(ErrorBody? Error);

/// <summary>The inside of the error envelope.</summary>
internal sealed record ErrorBody(string? Code, string? Message, Dictionary<string, string[]>? Details);
