namespace Raworc.ApiService.Operators;

/// <summary>A stored account that logs in with a password (table <c>operators</c>).</summary>
public sealed class Operator
{
    /// <summary>Row id; written into the operator's tokens (<c>oid</c>).</summary>
    public Guid Id { get; set; }

    /// <summary>Login name (wire field <c>user</c>): 1–64 letters, digits, <c>.</c>, <c>_</c>, <c>-</c>; unique.</summary>
    public required string Name { get; set; }

    /// <summary>Free text, at most 1000 characters.</summary>
    public string? Description { get; set; }

    /// <summary>ASP.NET Core Identity password hash (PBKDF2); never leaves the service.</summary>
    public required string PasswordHash { get; set; }

    /// <summary>Admin operators manage operators, tokens and every session.</summary>
    public bool IsAdmin { get; set; }

    /// <summary>An inactive operator cannot log in, and its tokens stop working.</summary>
    public bool IsActive { get; set; } = true;

    /// <summary>Creation time (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Last change (UTC).</summary>
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Last successful password login (UTC), if any.</summary>
    public DateTimeOffset? LastLoginAt { get; set; }

    /// <summary>
    /// The generation of the operator's tokens: written into each token (claim <c>gen</c>) and raised by every password
    /// change and every revoke, so each token issued before is refused from then on. A counter, not a time: JWT times are
    /// whole seconds, and a token issued in the second of a change must neither survive it nor be taken for an older one.
    /// </summary>
    public int TokenGeneration { get; set; }
}
