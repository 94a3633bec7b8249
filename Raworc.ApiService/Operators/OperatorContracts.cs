using System.Text.RegularExpressions;
using Raworc.ApiService.Platform;

namespace Raworc.ApiService.Operators;

/// <summary>An operator on the wire; the password hash is never part of it.</summary>
/// <param name="User">Operator name.</param>
/// <param name="Description">Free text, or null.</param>
/// <param name="Admin">Admin flag.</param>
/// <param name="Active">Inactive operators cannot log in.</param>
/// <param name="CreatedAt">Creation time (UTC).</param>
/// <param name="UpdatedAt">Last change (UTC).</param>
/// <param name="LastLoginAt">Last password login (UTC), or null.</param>
public sealed record OperatorResponse(string User, string? Description, bool Admin, bool Active,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? LastLoginAt)
{
    /// <summary>Projection from the entity (usable inside EF queries).</summary>
    public static readonly System.Linq.Expressions.Expression<Func<Operator, OperatorResponse>> Project =
        o => new OperatorResponse(o.Name, o.Description, o.IsAdmin, o.IsActive, o.CreatedAt, o.UpdatedAt, o.LastLoginAt);

    /// <summary>The wire shape of one loaded operator.</summary>
    public static OperatorResponse From(Operator o) => new(o.Name, o.Description, o.IsAdmin, o.IsActive, o.CreatedAt, o.UpdatedAt, o.LastLoginAt);
}

/// <summary>Body of <c>POST /operators</c>.</summary>
/// <param name="User">Name: 1–64 letters, digits, <c>.</c>, <c>_</c>, <c>-</c>.</param>
/// <param name="Pass">Password, 8–1024 characters.</param>
/// <param name="Description">Optional free text, at most 1000 characters.</param>
/// <param name="Admin">Optional admin flag (default false).</param>
public sealed record CreateOperatorRequest(string? User, string? Pass, string? Description, bool? Admin);

/// <summary>Body of <c>PUT /operators/{name}</c>; at least one field.</summary>
/// <param name="Description">New description.</param>
/// <param name="Active">New active flag.</param>
/// <param name="Admin">New admin flag.</param>
public sealed record UpdateOperatorRequest(string? Description, bool? Active, bool? Admin);

/// <summary>Body of <c>PUT /operators/{name}/password</c>.</summary>
/// <param name="CurrentPassword">Required when changing one's own password.</param>
/// <param name="NewPassword">8–1024 characters.</param>
public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

/// <summary>The rules for operator names, passwords and descriptions.</summary>
public static partial class OperatorRules
{
    /// <summary>Password length bounds, in characters.</summary>
    public const int MinPassword = 8, MaxPassword = 1024;

    /// <summary>Longest description, in characters.</summary>
    public const int MaxDescription = 1000;

    /// <summary>1–64 of letters, digits, <c>.</c>, <c>_</c>, <c>-</c>.</summary>
    // \A and \z: '$' would also match before a final newline, letting "alice\n" through.
    [GeneratedRegex(@"\A[A-Za-z0-9._-]{1,64}\z")]
    public static partial Regex Name();

    /// <summary>Records the problems of a name.</summary>
    public static Validation CheckName(this Validation validation, string? name) => validation
        .When(string.IsNullOrEmpty(name), "user", "is required")
        .When(name is { Length: > 0 } && !Name().IsMatch(name), "user", "must be 1-64 characters of letters, digits, '.', '_' or '-'");

    /// <summary>Records the problems of a password in <paramref name="field"/> (length; no U+0000, like every text field).</summary>
    public static Validation CheckPassword(this Validation validation, string field, string? password) => validation
        .When(password is null, field, "is required")
        .When(password is { Length: < MinPassword }, field, $"must be at least {MinPassword} characters")
        .When(password is { Length: > MaxPassword }, field, $"must be at most {MaxPassword} characters")
        .CheckText(field, password);

    /// <summary>Records the problems of a description (length; no U+0000).</summary>
    public static Validation CheckDescription(this Validation validation, string? description) => validation
        .When(description is { Length: > MaxDescription }, "description", $"must be at most {MaxDescription} characters")
        .CheckText("description", description);
}
