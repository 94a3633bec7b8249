using Aspire.Hosting.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Raworc.ApiService.Data;
using Raworc.ApiService.Redis;
using Raworc.ApiService.Work;
using Raworc.Tests.Infrastructure;
using StackExchange.Redis;

namespace Raworc.Tests.Work;

/// <summary>
/// The work queue on a database of its own (made on the system's Postgres server and migrated like the API's): a claim
/// is committed before the worker calls the engine, holds a lease instead of a lock, and keeps one session's items in order.
/// </summary>
[Collection(RaworcAppCollection.Name)]
public sealed class WorkQueueTests(RaworcAppFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private readonly string _database = $"queue_{Guid.NewGuid():N}";
    private string _connectionString = "";
    private ConnectionMultiplexer? _redis;

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
        await using (var db = NewContext())
        {
            await db.Database.MigrateAsync();
        }
        _redis = await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync(ResourceNames.Redis))!);
    }

    public async Task DisposeAsync()
    {
        _redis?.Dispose();
        NpgsqlConnection.ClearAllPools();
        await fixture.QueryAsync<int>($"SELECT 1 FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{_database}') t LIMIT 0");
        await using var connection = new NpgsqlConnection(await fixture.App.GetConnectionStringAsync(ResourceNames.Database));
        await connection.OpenAsync();
        await new NpgsqlCommand($"DROP DATABASE IF EXISTS {_database}", connection).ExecuteNonQueryAsync();
    }

    private RaworcDbContext NewContext() =>
        new(new DbContextOptionsBuilder<RaworcDbContext>().UseNpgsql(_connectionString).UseSnakeCaseNamingConvention().Options);

    private WorkQueue Queue(RaworcDbContext db) =>
        new(db, new RedisStore(_redis!, NullLogger<RedisStore>.Instance), TimeProvider.System);

    private async Task<long> AddAsync(Guid session, string kind)
    {
        await using var db = NewContext();
        var item = Queue(db).Add(session, kind);
        await db.SaveChangesAsync();
        return item.Id;
    }

    [Fact]
    public async Task AClaimIsCommittedWithALeaseAndHoldsNoLock()
    {
        var session = Guid.NewGuid();
        var id = await AddAsync(session, WorkKinds.Create);
        await using var db = NewContext();

        var claimed = await Queue(db).ClaimAsync(Lease, CancellationToken.None);

        Assert.Equal(id, claimed!.Id);
        // From another connection, at once: the lease is visible (committed) and the row is not locked.
        await using var other = new NpgsqlConnection(_connectionString);
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        var lease = (DateTime?)await new NpgsqlCommand($"SELECT lease_expires_at FROM work_items WHERE id = {id} FOR UPDATE NOWAIT", other, transaction)
            .ExecuteScalarAsync();
        Assert.NotNull(lease);
        Assert.InRange(lease!.Value, DateTime.UtcNow.AddMinutes(4), DateTime.UtcNow.AddMinutes(6));
    }

    [Fact]
    public async Task ALeasedItemIsNotClaimedTwiceAndALaterItemOfItsSessionWaits()
    {
        var first = Guid.NewGuid();
        var second = Guid.NewGuid();
        var create = await AddAsync(first, WorkKinds.Create);
        var close = await AddAsync(first, WorkKinds.Close);
        var other = await AddAsync(second, WorkKinds.Create);
        await using var db = NewContext();
        var queue = Queue(db);

        Assert.Equal(create, (await queue.ClaimAsync(Lease, CancellationToken.None))!.Id);
        Assert.Equal(other, (await queue.ClaimAsync(Lease, CancellationToken.None))!.Id);
        Assert.Null(await queue.ClaimAsync(Lease, CancellationToken.None));

        await queue.CompleteAsync(create, CancellationToken.None);
        Assert.Equal(close, (await queue.ClaimAsync(Lease, CancellationToken.None))!.Id);
    }

    [Fact]
    public async Task AnItemWhoseLeaseRanOutIsClaimedAgain()
    {
        var id = await AddAsync(Guid.NewGuid(), WorkKinds.Restore);
        await using var db = NewContext();
        var queue = Queue(db);

        // A worker that claimed it with a lease that has already ended (as if it had died long ago).
        Assert.Equal(id, (await queue.ClaimAsync(TimeSpan.Zero, CancellationToken.None))!.Id);

        Assert.Equal(id, (await queue.ClaimAsync(Lease, CancellationToken.None))!.Id);
        Assert.Null(await queue.ClaimAsync(Lease, CancellationToken.None));
    }

    [Fact]
    public async Task ALeaseRenewedByItsHolderStaysAndOneTakenByAnotherClaimIsNotTouchedByTheFirstHolder()
    {
        var id = await AddAsync(Guid.NewGuid(), WorkKinds.Restore);
        await using var db = NewContext();
        var queue = Queue(db);
        var first = (await queue.ClaimAsync(TimeSpan.FromSeconds(30), CancellationToken.None))!.LeaseExpiresAt!.Value;

        // The holder renews: its lease moves, and no other claim gets the item.
        var renewed = await queue.RenewAsync(id, first, Lease, CancellationToken.None);
        Assert.NotNull(renewed);
        Assert.Equal([renewed.Value], await db.WorkItems.Where(w => w.Id == id).Select(w => w.LeaseExpiresAt!.Value).ToListAsync());
        Assert.Null(await queue.ClaimAsync(Lease, CancellationToken.None));

        // A holder that missed its renewals (its lease ran out) and was overtaken: its renewal, completion and release find
        // the item another's, and leave it as the new holder has it.
        await db.WorkItems.Where(w => w.Id == id).ExecuteUpdateAsync(set => set.SetProperty(w => w.LeaseExpiresAt, (DateTimeOffset?)DateTimeOffset.UtcNow.AddSeconds(-1)));
        var stale = (await db.WorkItems.AsNoTracking().SingleAsync(w => w.Id == id)).LeaseExpiresAt!.Value;
        var second = (await queue.ClaimAsync(Lease, CancellationToken.None))!.LeaseExpiresAt!.Value;
        Assert.Null(await queue.RenewAsync(id, stale, Lease, CancellationToken.None));
        await queue.CompleteAsync(id, CancellationToken.None, heldUntil: stale);
        await queue.ReleaseAsync(id, 1, DateTimeOffset.UtcNow, "late", CancellationToken.None, heldUntil: stale);
        Assert.Equal([second], await db.WorkItems.Where(w => w.Id == id).Select(w => w.LeaseExpiresAt!.Value).ToListAsync());
        Assert.Equal([0], await db.WorkItems.Where(w => w.Id == id).Select(w => w.Attempts).ToListAsync());
    }

    [Fact]
    public async Task AnAbandonedClaimEndsOnlyItsOwnRunNotTheOneThisProcessMadeOfTheItemSince()
    {
        var id = await AddAsync(Guid.NewGuid(), WorkKinds.Restore);
        await using var db = NewContext();
        var queue = Queue(db);
        // The first claim's lease runs out while it works; the same process claims the item again.
        var first = (await queue.ClaimAsync(TimeSpan.Zero, CancellationToken.None))!;
        var second = (await queue.ClaimAsync(Lease, CancellationToken.None))!;
        Assert.NotEqual(first.ClaimedAt, second.ClaimedAt);

        // The first gives up (its lease is lost), then the second finishes.
        Assert.Equal(1, await queue.EndRunAsync(id, first.ClaimedAt, WorkRunOutcomes.Lost, CancellationToken.None));
        Assert.Equal([null], await db.WorkRuns.Where(r => r.WorkItemId == id && r.StartedAt == second.ClaimedAt).Select(r => r.Outcome).ToListAsync());
        await queue.CompleteAsync(id, CancellationToken.None, heldUntil: second.LeaseExpiresAt, claimedAt: second.ClaimedAt);

        Assert.Equal([(first.ClaimedAt, WorkRunOutcomes.Lost), (second.ClaimedAt, WorkRunOutcomes.Done)],
            (await db.WorkRuns.Where(r => r.WorkItemId == id).OrderBy(r => r.Id).Select(r => new { r.StartedAt, r.Outcome }).ToListAsync())
                .Select(r => ((DateTimeOffset?)r.StartedAt, r.Outcome)));
        Assert.Empty(await db.WorkItems.Where(w => w.Id == id).ToListAsync());
    }

    [Fact]
    public async Task ADeleteDropsQueuedItemsButNotOneAWorkerHolds()
    {
        var session = Guid.NewGuid();
        var create = await AddAsync(session, WorkKinds.Create);
        var close = await AddAsync(session, WorkKinds.Close);
        await using var db = NewContext();
        var queue = Queue(db);
        await queue.ClaimAsync(Lease, CancellationToken.None);

        await queue.DropPendingAsync(session, CancellationToken.None);

        Assert.Equal([create], await db.WorkItems.Where(w => w.SessionId == session).Select(w => w.Id).ToListAsync());
    }
}
