using System.Net;
using Aspire.Hosting.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Raworc.ApiService.Computers;
using Raworc.ApiService.Data;
using Raworc.ApiService.Sessions;
using Raworc.ApiService.Webhooks;
using Raworc.ApiService.Work;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Platform;

[Collection(RaworcAppCollection.Name)]
public sealed class SchemaChangeTests(RaworcAppFixture fixture)
{
    [Fact]
    public async Task AColumnAnotherReplicasMigrationAddsFailsNoStatementThisReplicaKeepsPrepared()
    {
        // A rolling upgrade: a newer replica's migration adds a column while this replica runs. Each pooled connection keeps
        // its most-run statements prepared (Npgsql's Max Auto Prepare), and Postgres refuses to run a prepared statement
        // whose result columns changed since ("0A000: cached plan must not change result type"): a statement that returned
        // `*` failed once per connection that had it prepared, here a message's append (500).
        var (_, client) = await fixture.CreateOperatorAsync("upgrader");
        using var _ = client;
        var id = (await client.CreateSessionAsync()).Id();
        var path = $"/api/v0/sessions/{id}/messages";
        // Npgsql prepares a statement on its fifth use on one connection; one client's requests one after another mostly
        // reuse one connection, and 20 uses prepare it on at least one of the few a quiet API holds.
        for (var i = 0; i < 20; i++)
        {
            await client.PostOkAsync(path, new { content = $"before {i}" });
        }

        var statuses = new List<HttpStatusCode>();
        await fixture.QueryAsync<int>("ALTER TABLE sessions ADD COLUMN schema_change_probe integer");
        try
        {
            for (var i = 0; i < 20; i++)
            {
                using var response = await client.PostAsync(path, Http.Json(new { content = $"after {i}" }));
                statuses.Add(response.StatusCode);
            }
        }
        finally
        {
            await fixture.QueryAsync<int>("ALTER TABLE sessions DROP COLUMN schema_change_probe");
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Created, 20), statuses);
        var messages = await client.GetMessagesAsync(id.ToString());
        Assert.Equal(40, messages.Count);
        Assert.Equal("after 19", (string?)messages[^1]!["content"]);
    }

    /// <summary>
    /// An upgrade to the session totals (migration <c>SessionTotals</c>) counts the sessions that exist already, per owner:
    /// a database of its own is migrated to the migration before, given sessions of an operator and of a user named like
    /// it, then migrated on, and each owner's row reads their count; the triggers keep it from there.
    /// </summary>
    [Fact]
    public async Task AnUpgradeCountsTheSessionsThatExistAlreadyPerOwner()
    {
        var name = $"raworc_upgrade_{Guid.NewGuid():N}"[..30];
        var server = new Npgsql.NpgsqlConnectionStringBuilder(await fixture.App.GetConnectionStringAsync(ResourceNames.Database));
        await fixture.QueryAsync<int>($"CREATE DATABASE {name}");
        try
        {
            var connection = new Npgsql.NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name, Pooling = false };
            await using var db = new RaworcDbContext(new DbContextOptionsBuilder<RaworcDbContext>()
                .UseNpgsql(connection.ConnectionString).UseSnakeCaseNamingConvention().Options);
            var migrator = db.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>();
            await migrator.MigrateAsync("20261202020720_SessionFirstReadyAt");
            var operatorId = Guid.NewGuid();
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO operators (id, name, password_hash, is_admin, is_active, created_at, updated_at)
                VALUES ({operatorId}, 'ada', 'x', false, true, now(), now())
                """);
            await db.Database.ExecuteSqlAsync($$"""
                INSERT INTO sessions (id, created_by, created_by_type, created_by_operator_id, state, created_at, last_activity_at,
                                      metadata, is_published, publish_data, publish_code, publish_secrets, timeout_seconds, secret_names,
                                      computer_start, usage_input_tokens, usage_model_calls, usage_output_tokens)
                SELECT gen_random_uuid(), 'ada', CASE WHEN n <= 7 THEN 'Operator' ELSE 'User' END, CASE WHEN n <= 7 THEN {{operatorId}} END,
                       'closed', now(), now(), '{}', false, true, true, false, 300, '{}', 1, 0, 0, 0
                FROM generate_series(1, 10) n
                """);

            await migrator.MigrateAsync();

            var totals = await db.SessionTotals.AsNoTracking().OrderBy(t => t.OwnerKey).Select(t => $"{t.OwnerKey}={t.Total}").ToListAsync();
            Assert.Equal(["name:User:ada=3", $"operator:{operatorId:D}=7"], totals);
        }
        finally
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            await fixture.QueryAsync<int>($"DROP DATABASE {name} WITH (FORCE)");
        }
    }

    [Fact]
    public async Task EachListOfResultColumnsIsEveryColumnOfItsTableInTheMigratedDatabase()
    {
        // A list missing a column would fail EF's mapping; one naming a column the table lacks would fail the statement.
        await using var db = new RaworcDbContext(new DbContextOptionsBuilder<RaworcDbContext>()
            .UseNpgsql("Host=unused").UseSnakeCaseNamingConvention().Options);
        foreach (var (table, list) in new[]
        {
            ("sessions", ResultColumns.Of<Session>(db)), ("work_items", ResultColumns.Of<WorkItem>(db)),
            ("webhook_deliveries", ResultColumns.Of<WebhookDelivery>(db)), ("warm_computers", ResultColumns.Of<WarmComputer>(db)),
        })
        {
            var columns = await fixture.QueryAsync<string>(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = @table",
                ("table", table));
            Assert.Equal(columns.Select(c => $"\"{c}\"").Order(StringComparer.Ordinal),
                list.Text.Split(", ").Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void InlineWritesTheColumnsIntoTheTextAndKeepsEveryOtherArgumentAsAnArgumentInOrder()
    {
        var when = new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);
        var sql = ResultColumns.Inline($"UPDATE t SET a = {when}, b = '{{x}}' WHERE id = {42} RETURNING {new SqlText("\"a\", \"b\"")}, {"c"}");

        Assert.Equal("UPDATE t SET a = {0}, b = '{{x}}' WHERE id = {1} RETURNING \"a\", \"b\", {2}", sql.Format);
        Assert.Equal(new object?[] { when, 42, "c" }, sql.GetArguments());
    }
}
