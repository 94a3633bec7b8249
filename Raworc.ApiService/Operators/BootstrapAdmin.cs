using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Raworc.ApiService.Operators;

/// <summary>
/// Creates the bootstrap operator <c>admin</c> (admin flag set) on the first start, when no operator exists,
/// with the password from <c>Bootstrap:AdminPassword</c> (the AppHost parameter <c>admin-password</c>).
/// There is no built-in default: without the setting the first start fails with a message naming it.
/// </summary>
public static class BootstrapAdmin
{
    /// <summary>Name of the bootstrap operator.</summary>
    public const string Name = "admin";

    /// <summary>Configuration key of the bootstrap password.</summary>
    public const string PasswordKey = "Bootstrap:AdminPassword";

    /// <summary>Creates <c>admin</c> when the operators table is empty.</summary>
    /// <exception cref="InvalidOperationException">The table is empty and no valid password is configured.</exception>
    public static async Task EnsureAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<RaworcDbContext>();
        if (await db.Operators.AnyAsync(cancellationToken))
        {
            return;
        }

        var password = services.GetRequiredService<IConfiguration>()[PasswordKey];
        if (string.IsNullOrEmpty(password) || password.Length < OperatorRules.MinPassword)
        {
            throw new InvalidOperationException(
                $"{PasswordKey} (the AppHost parameter admin-password) must be set to at least {OperatorRules.MinPassword} characters to create the first admin operator.");
        }

        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        db.Operators.Add(Operator.Create(Name, password, isAdmin: true, "Bootstrap administrator",
            services.GetRequiredService<IPasswordHasher<Operator>>(), now));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // Another replica created it first.
        }
    }
}
