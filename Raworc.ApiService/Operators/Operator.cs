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

    /// <summary>
    /// A new active operator with its password hashed (ASP.NET Core Identity's PBKDF2 hasher), not yet added to a context.
    /// The one way operators are made: by the bootstrap and by <c>POST /operators</c>.
    /// </summary>
    /// <param name="name">Login name, already validated.</param>
    /// <param name="password">The password in clear, already validated; only its hash is kept.</param>
    /// <param name="isAdmin">Whether the operator is an admin.</param>
    /// <param name="description">Free text, or null.</param>
    /// <param name="hasher">The password hasher.</param>
    /// <param name="now">Creation time (UTC).</param>
    public static Operator Create(string name, string password, bool isAdmin, string? description,
        Microsoft.AspNetCore.Identity.IPasswordHasher<Operator> hasher, DateTimeOffset now)
    {
        var account = new Operator
        {
            Id = Guid.CreateVersion7(),
            Name = name,
            Description = description,
            IsAdmin = isAdmin,
            PasswordHash = "",
            CreatedAt = now,
            UpdatedAt = now,
        };
        account.PasswordHash = hasher.HashPassword(account, password);
        return account;
    }
}
