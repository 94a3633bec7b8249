using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;
using Raworc.ApiService.Operators;

namespace Raworc.ApiService.Data;

/// <summary>Registers the database and Redis clients and applies migrations.</summary>
public static class DataExtensions
{
    /// <summary>
    /// Registers <see cref="RaworcDbContext"/> on the <c>raworcdb</c> connection string and the Redis
    /// multiplexer on <c>cache</c>, each with its health check (part of <c>/health</c>).
    /// </summary>
    public static WebApplicationBuilder AddRaworcData(this WebApplicationBuilder builder)
    {
        // No automatic retries: state changes run in explicit transactions, and a failed statement is
        // answered as 503 rather than replayed behind the caller's back.
        builder.AddNpgsqlDbContext<RaworcDbContext>(ResourceNames.Database,
            settings =>
            {
                settings.DisableRetry = true;
                settings.ConnectionString = WithPoolBound(settings.ConnectionString);
            },
            configureDbContextOptions: options => options.UseSnakeCaseNamingConvention());
        builder.AddRedisClient(ResourceNames.Redis);
        return builder;
    }

    /// <summary>Connections one API process opens at most unless the connection string says otherwise.</summary>
    public const int DefaultMaxPoolSize = 50;

    /// <summary>
    /// Bounds the pool below Postgres's <c>max_connections</c> (100 by default, Npgsql's own pool bound too): a burst of
    /// requests (a thousand long-polls arriving) then waits for a pooled connection instead of being refused by Postgres
    /// with 53300. A pool bound set in the connection string is kept.
    /// </summary>
    private static string? WithPoolBound(string? connectionString)
    {
        if (connectionString is null)
        {
            return null;
        }
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Maximum Pool Size", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("MaxPoolSize", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxPoolSize = DefaultMaxPoolSize;
        }
        return builder.ConnectionString;
    }

    /// <summary>
    /// Applies pending migrations and creates the bootstrap admin before the API serves. EF Core takes a database lock while migrating,
    /// so several replicas starting at once apply each migration exactly once.
    /// </summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RaworcDbContext>();
        await db.EnsureMigrationsHistoryAsync(app.Lifetime.ApplicationStopping);
        await db.Database.MigrateAsync(app.Lifetime.ApplicationStopping);
        await BootstrapAdmin.EnsureAsync(scope.ServiceProvider, app.Lifetime.ApplicationStopping);
        if (scope.ServiceProvider.GetService<Computers.DeploymentIdentity>() is { } deployment)
        {
            await deployment.LoadAsync(db, app.Lifetime.ApplicationStopping);
        }
    }

    /// <summary>
    /// Creates the migrations-history table when it is missing, as <c>Migrate</c> would. EF Core 10 with Npgsql reads the
    /// table before creating it on an empty database and logs the failed read as an error (event 20102, "Failed executing
    /// DbCommand … FROM __EFMigrationsHistory"; dotnet/efcore#37328), which put an error badge on the api resource at
    /// every first start. Silencing that event would hide real failed commands, so the table is made first.
    /// </summary>
    private static async Task EnsureMigrationsHistoryAsync(this RaworcDbContext db, CancellationToken cancellationToken)
    {
        var creator = db.GetService<IRelationalDatabaseCreator>();
        if (await creator.ExistsAsync(cancellationToken))
        {
            // CREATE TABLE IF NOT EXISTS: a no-op when it is there.
            await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
        }
    }
}
