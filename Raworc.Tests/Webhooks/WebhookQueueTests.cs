using Aspire.Hosting.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Raworc.ApiService.Data;
using Raworc.ApiService.Operators;
using Raworc.ApiService.Webhooks;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Webhooks;

/// <summary>
/// The webhook outbox's claims on a database of their own (made on the system's Postgres server and migrated like the
/// API's): two dispatchers never hold one delivery, and one session's deliveries to a webhook go one at a time, in order.
/// </summary>
[Collection(RaworcAppCollection.Name)]
public sealed class WebhookQueueTests(RaworcAppFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private readonly string _database = $"webhooks_{Guid.NewGuid():N}";
    private string _connectionString = "";

    public async Task InitializeAsync()
    {
        var server = new NpgsqlConnectionStringBuilder(await fixture.App.GetConnectionStringAsync(ResourceNames.Database));
        await using (var connection = new NpgsqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync();
            await new NpgsqlCommand($"CREATE DATABASE {_database}", connection).ExecuteNonQueryAsync();
        }
        server.Database = _database;
        _connectionString = server.ConnectionString;
        await using var db = NewContext();
        await db.Database.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await fixture.QueryAsync<int>($"SELECT 1 FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{_database}') t LIMIT 0");
        await using var connection = new NpgsqlConnection(await fixture.App.GetConnectionStringAsync(ResourceNames.Database));
        await connection.OpenAsync();
        await new NpgsqlCommand($"DROP DATABASE IF EXISTS {_database}", connection).ExecuteNonQueryAsync();
    }

    private RaworcDbContext NewContext() =>
        new(new DbContextOptionsBuilder<RaworcDbContext>().UseNpgsql(_connectionString).UseSnakeCaseNamingConvention().Options);

    private static WebhookQueue Queue(RaworcDbContext db) => new(db, Options.Create(new WebhookOptions()), TimeProvider.System);

    private async Task<(long A1, long A2, long B1)> SeedAsync()
    {
        await using var db = NewContext();
        var now = DateTimeOffset.UtcNow;
        var owner = Operator.Create("queue-owner", "operator-pass-1", false, null, new PasswordHasher<Operator>(), now);
        var webhook = new Webhook { Id = Guid.NewGuid(), OperatorId = owner.Id, Url = "https://example.com/", ProtectedSecret = "x", EventTypes = WebhookEventTypes.All };
        db.Operators.Add(owner);
        db.Webhooks.Add(webhook);
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        WebhookDelivery Delivery(Guid session) => db.WebhookDeliveries.Add(new WebhookDelivery
        {
            WebhookId = webhook.Id, EventId = Guid.NewGuid(), EventType = WebhookEventTypes.Message, SessionId = session, Payload = "{}",
            CreatedAt = now, NextAttemptAt = now.AddSeconds(-1),
        }).Entity;
        var a1 = Delivery(a);
        await db.SaveChangesAsync();
        var a2 = Delivery(a);
        await db.SaveChangesAsync();
        var b1 = Delivery(b);
        await db.SaveChangesAsync();
        return (a1.Id, a2.Id, b1.Id);
    }

    [Fact]
    public async Task ConcurrentClaimsNeverShareADeliveryAndASessionsNextWaitsForItsPrevious()
    {
        var (a1, a2, b1) = await SeedAsync();

        await using var one = NewContext();
        await using var two = NewContext();
        await using var three = NewContext();
        var claims = await Task.WhenAll(Queue(one).ClaimAsync(Lease, default), Queue(two).ClaimAsync(Lease, default), Queue(three).ClaimAsync(Lease, default));

        // a2 is not claimable while a1 is pending, so three dispatchers get a1, b1 and nothing.
        Assert.Equal([a1, b1], claims.Where(c => c is not null).Select(c => c!.Id).Order().ToArray());
        Assert.Single(claims, c => c is null);

        await using var db = NewContext();
        var first = claims.Single(c => c?.Id == a1)!;
        await Queue(db).RecordAsync(first, new SendResult(true, [new WebhookAttempt { DeliveryId = a1, AttemptedAt = DateTimeOffset.UtcNow, StatusCode = 204 }]), default);
        Assert.Equal(a2, (await Queue(db).ClaimAsync(Lease, default))?.Id);
        Assert.Null(await Queue(db).ClaimAsync(Lease, default));
    }
}
