using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Raworc.ApiService.Operators;

/// <summary>Database helpers for the last-admin rule and unique names.</summary>
public static class OperatorQueries
{
    // Any fixed number: it names the advisory lock that serialises changes to the set of admins.
    private const long AdminsLockKey = 0x7261_776f_7263_0001;

    /// <summary>
    /// Takes a transaction-scoped advisory lock so two concurrent demotions cannot both see "another admin
    /// exists" and leave none. Must run inside a transaction.
    /// </summary>
    public static Task LockAdminsAsync(this RaworcDbContext db, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AdminsLockKey})", cancellationToken);

    /// <summary>True when an active admin other than <paramref name="operatorId"/> exists.</summary>
    public static Task<bool> OtherActiveAdminExistsAsync(this RaworcDbContext db, Guid operatorId, CancellationToken cancellationToken) =>
        db.Operators.AnyAsync(o => o.IsAdmin && o.IsActive && o.Id != operatorId, cancellationToken);

    /// <summary>True when the failure (or its inner exception) is a unique-constraint violation (SQLSTATE 23505).</summary>
    public static bool IsUniqueViolation(this Exception exception) =>
        (exception as PostgresException ?? exception.InnerException as PostgresException)?.SqlState == PostgresErrorCodes.UniqueViolation;
}
