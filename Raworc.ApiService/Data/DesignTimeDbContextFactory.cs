using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Raworc.ApiService.Data;

/// <summary>
/// Lets <c>dotnet ef</c> build the model without starting the app (which needs the AppHost's
/// connection strings). Creating a migration never connects to a database.
/// </summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<RaworcDbContext>
{
    /// <inheritdoc />
    public RaworcDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<RaworcDbContext>().UseNpgsql("Host=localhost;Database=raworcdb").UseSnakeCaseNamingConvention().Options);
}
