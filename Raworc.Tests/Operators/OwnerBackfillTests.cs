using Aspire.Hosting.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using Raworc.ApiService.Data;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Operators;

/// <summary>
/// The migration that makes sessions belong to an operator's id fills it in from the names, on a database of the
/// migration before it (a scratch database on the fixture's Postgres).
/// </summary>
[Collection(RaworcAppCollection.Name)]
public sealed class OwnerBackfillTests(RaworcAppFixture fixture)
{
    private const string Before = "20261130152249_ComputerStartAndUsage";

    [Fact]
    public async Task ASessionGoesToTheOperatorOfItsNameOnlyIfThatOperatorExistedWhenItWasMade()
    {
        var server = new NpgsqlConnectionStringBuilder(await fixture.App.GetConnectionStringAsync(ResourceNames.Database));
        var scratch = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = $"backfill_{Guid.NewGuid():N}" };
        await using (var connection = new NpgsqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync();
            await new NpgsqlCommand($"CREATE DATABASE {scratch.Database}", connection).ExecuteNonQueryAsync();
        }
        try
        {
            await using var db = new RaworcDbContext(new DbContextOptionsBuilder<RaworcDbContext>()
                .UseNpgsql(scratch.ConnectionString).UseSnakeCaseNamingConvention().Options);
            var migrator = db.GetService<IMigrator>();
            await migrator.MigrateAsync(Before);

            var (alice, carol) = (Guid.NewGuid(), Guid.NewGuid());
            // alice existed from 10:00; "carol" of today was created at 12:00, after the carol whose session dates from
            // 11:00 had been deleted. A user named alice has a session too.
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO operators (id, name, password_hash, is_admin, is_active, created_at, updated_at) VALUES
                  ({alice}, 'alice', 'x', false, true, '2026-01-01 10:00:00+00', '2026-01-01 10:00:00+00'),
                  ({carol}, 'carol', 'x', false, true, '2026-01-01 12:00:00+00', '2026-01-01 12:00:00+00')
                """);
            var (aliceSession, carolSession, userSession) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO sessions (id, created_by, created_by_type, state, created_at, last_activity_at, metadata,
                                      is_published, publish_data, publish_code, publish_secrets, timeout_seconds, secret_names) VALUES
                  ({aliceSession}, 'alice', 'Operator', 'closed', '2026-01-01 11:00:00+00', '2026-01-01 11:00:00+00', jsonb_build_object(), false, true, true, false, 300, ARRAY[]::text[]),
                  ({carolSession}, 'carol', 'Operator', 'closed', '2026-01-01 11:00:00+00', '2026-01-01 11:00:00+00', jsonb_build_object(), false, true, true, false, 300, ARRAY[]::text[]),
                  ({userSession}, 'alice', 'User', 'closed', '2026-01-01 11:00:00+00', '2026-01-01 11:00:00+00', jsonb_build_object(), false, true, true, false, 300, ARRAY[]::text[])
                """);

            await migrator.MigrateAsync();

            var owners = await db.Sessions.AsNoTracking().ToDictionaryAsync(s => s.Id, s => s.CreatedByOperatorId);
            Assert.Equal(alice, owners[aliceSession]);
            Assert.Null(owners[carolSession]);
            Assert.Null(owners[userSession]);
            Assert.Equal([0, 0], await db.Operators.AsNoTracking().Select(o => o.TokenGeneration).ToListAsync());
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(server.ConnectionString);
            await connection.OpenAsync();
            await new NpgsqlCommand($"DROP DATABASE IF EXISTS {scratch.Database} WITH (FORCE)", connection).ExecuteNonQueryAsync();
        }
    }
}
