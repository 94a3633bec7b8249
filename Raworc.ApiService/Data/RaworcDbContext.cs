using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Operators;

namespace Raworc.ApiService.Data;

/// <summary>
/// The database of Raworc: the source of truth for everything that must survive a restart.
/// </summary>
/// <remarks>
/// Migrations live in <c>Data/Migrations</c> and are applied at start-up by
/// <see cref="DataExtensions.MigrateDatabaseAsync"/>. To add one (from the repository root):
/// <code>dotnet tool restore &amp;&amp; dotnet ef migrations add NAME --project Raworc.ApiService --output-dir Data/Migrations</code>
/// </remarks>
public sealed class RaworcDbContext(DbContextOptions<RaworcDbContext> options) : DbContext(options)
{
    /// <summary>Operators (accounts).</summary>
    public DbSet<Operator> Operators => Set<Operator>();

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(RaworcDbContext).Assembly);
}
