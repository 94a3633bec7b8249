using Microsoft.EntityFrameworkCore;
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
            settings => settings.DisableRetry = true,
            configureDbContextOptions: options => options.UseSnakeCaseNamingConvention());
        builder.AddRedisClient(ResourceNames.Redis);
        return builder;
    }

    /// <summary>
    /// Applies pending migrations and creates the bootstrap admin before the API serves. EF Core takes a database lock while migrating,
    /// so several replicas starting at once apply each migration exactly once.
    /// </summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RaworcDbContext>();
        await db.Database.MigrateAsync(app.Lifetime.ApplicationStopping);
        await BootstrapAdmin.EnsureAsync(scope.ServiceProvider, app.Lifetime.ApplicationStopping);
        if (scope.ServiceProvider.GetService<Computers.DeploymentIdentity>() is { } deployment)
        {
            await deployment.LoadAsync(db, app.Lifetime.ApplicationStopping);
        }
    }
}
