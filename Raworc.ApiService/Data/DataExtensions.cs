using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
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
        // Spans and metrics of queries and Redis commands only when they are exported (see ExportsTelemetry).
        var untraced = !ServiceDefaultsExtensions.ExportsTelemetry(builder.Configuration);
        // No automatic retries: state changes run in explicit transactions, and a failed statement is
        // answered as 503 rather than replayed behind the caller's back.
        builder.AddNpgsqlDbContext<RaworcDbContext>(ResourceNames.Database,
            settings =>
            {
                settings.DisableRetry = true;
                settings.DisableTracing |= untraced;
                settings.DisableMetrics |= untraced;
                settings.ConnectionString = WithPoolBound(settings.ConnectionString);
            },
            // These two events put the whole exception, stack trace included, in their message text; the failure itself
            // still reaches the request's handler or the background loop, which logs it in words.
            configureDbContextOptions: options => options.UseSnakeCaseNamingConvention()
                .ConfigureWarnings(events => events.Ignore(CoreEventId.QueryIterationFailed, CoreEventId.SaveChangesFailed)));
        builder.AddRedisClient(ResourceNames.Redis, settings => settings.DisableTracing |= untraced);
        return builder;
    }

    /// <summary>
    /// Connections one API process opens at most unless the connection string says otherwise (<see cref="DatabaseLimits.ApiMaxPoolSize"/>,
    /// which the AppHost's <c>max_connections</c> for Postgres counts on per replica).
    /// </summary>
    public const int DefaultMaxPoolSize = DatabaseLimits.ApiMaxPoolSize;

    /// <summary>Statements each pooled connection keeps prepared (Npgsql's automatic preparation).</summary>
    public const int DefaultMaxAutoPrepare = 50;

    /// <summary>
    /// Bounds the pool below Postgres's <c>max_connections</c> (100 by default, Npgsql's own pool bound too; the AppHost
    /// raises it to the replicas' pools together, <see cref="DatabaseLimits.MaxConnections"/>): a burst of
    /// requests (a thousand long-polls arriving) then waits for a pooled connection instead of being refused by Postgres
    /// with 53300. And makes a pooled connection cheaper to reuse: no <c>DISCARD ALL</c> when it goes back to the pool
    /// (<c>No Reset On Close</c>), and the statements it runs most kept prepared on it (<c>Max Auto Prepare</c>,
    /// <see cref="DefaultMaxAutoPrepare"/>), so a repeated query is neither parsed nor planned again. Without the reset a
    /// connection keeps its session-level state, so none may be left behind: the only such state Raworc makes, start-up's
    /// migration lock, is released explicitly (<see cref="MigrateDatabaseAsync"/>). Measured by the benchmark's throughput
    /// rows (README "Benchmarks"): Postgres's CPU per <c>GET /sessions/{id}</c> went from ~500–690 µs to ~210–280 µs.
    /// Each setting present in the connection string is kept as it is.
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
        if (!connectionString.Contains("Reset On Close", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("NoResetOnClose", StringComparison.OrdinalIgnoreCase))
        {
            builder.NoResetOnClose = true;
        }
        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("AutoPrepare", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxAutoPrepare = DefaultMaxAutoPrepare;
        }
        return builder.ConnectionString;
    }

    /// <summary>Key of the Postgres advisory lock that start-up's migrations run under (<c>raworc</c> in ASCII).</summary>
    public const long MigrationLockKey = 0x7261776F7263;

    /// <summary>
    /// Applies pending migrations and creates the bootstrap admin before the API serves, under a session-level Postgres
    /// advisory lock (<see cref="MigrationLockKey"/>): replicas starting at once take turns, and the later ones find
    /// nothing left to apply, and the Data Protection key that the first one made. EF Core's own migration lock did not keep two replicas from applying one migration twice
    /// (the second failed with 42701 "column already exists" and its process exited); the advisory lock is held on one
    /// connection across every migration's own transaction and released when that connection closes, even on a crash.
    /// </summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RaworcDbContext>();
        var stopping = app.Lifetime.ApplicationStopping;
        var locked = await db.GetService<IRelationalDatabaseCreator>().ExistsAsync(stopping);
        if (locked)
        {
            // Opened here, the context keeps this one connection until it is disposed: the lock and the migrations share it.
            await db.Database.OpenConnectionAsync(stopping);
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({MigrationLockKey})", stopping);
        }
        try
        {
            await db.EnsureMigrationsHistoryAsync(stopping);
            await db.Database.MigrateAsync(stopping);
            await BootstrapAdmin.EnsureAsync(scope.ServiceProvider, stopping);
            // The key ring is loaded here, under the lock, so only the first replica of an empty database makes a key and
            // the others find it. Replicas that made their first keys at once each sealed with their own, and once Data
            // Protection's two-minute window of reloading on an unknown key had passed, one could not open what the other
            // sealed (session secrets, webhook secrets) until its key ring's daily reload.
            scope.ServiceProvider.GetService<IDataProtectionProvider>()?.CreateProtector("Raworc.KeyRing").Protect([0]);
        }
        finally
        {
            if (locked)
            {
                try
                {
                    await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({MigrationLockKey})", CancellationToken.None);
                }
                catch
                {
                    // Pooled connections are not reset (WithPoolBound): one that may still hold the lock is closed for
                    // good rather than handed to a request, and its close releases the lock.
                    Npgsql.NpgsqlConnection.ClearPool((Npgsql.NpgsqlConnection)db.Database.GetDbConnection());
                    throw;
                }
                finally
                {
                    await db.Database.CloseConnectionAsync();
                }
            }
        }
        if (scope.ServiceProvider.GetService<Computers.DeploymentIdentity>() is { } deployment)
        {
            await deployment.LoadAsync(db, stopping);
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
