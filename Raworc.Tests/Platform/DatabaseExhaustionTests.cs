using Aspire.Hosting.Testing;
using Npgsql;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Platform;

/// <summary>
/// A database that has run out of connections (Postgres: 53300 "sorry, too many clients already") is a dependency that is
/// unavailable for a while: 503 with <c>Retry-After</c> in the error envelope, never a 500.
/// </summary>
[Collection(RaworcAppCollection.Name)]
public sealed class DatabaseExhaustionTests(RaworcAppFixture fixture)
{
    [Fact]
    public async Task ADatabaseOutOfConnectionsAnswers503WithRetryAfterAndServesAgainOnceOneIsFree()
    {
        using var admin = await fixture.AdminClientAsync();
        var session = await admin.CreateSessionAsync();
        var path = $"/api/v0/sessions/{session.Id()}";
        var connectionString = await fixture.App.GetConnectionStringAsync(ResourceNames.Database);
        var held = await TakeEveryConnectionAsync(connectionString!);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var response = await admin.GetAsync(path);
                await response.AssertErrorAsync(503, "SERVICE_UNAVAILABLE");
                Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
            }
        }
        finally
        {
            await ReleaseAsync(held);
        }
        await Waits.UntilAsync(async () => (await admin.GetAsync(path)).IsSuccessStatusCode, "the API to serve again", TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Gives back the slots <see cref="TakeEveryConnectionAsync"/> took. The pooled connections of this test process (the
    /// fixture's queries) were ended too, so its pools are cleared: the next test to query would be handed a dead one (57P01).
    /// </summary>
    internal static async Task ReleaseAsync(List<NpgsqlConnection> held)
    {
        foreach (var connection in held)
        {
            await connection.DisposeAsync();
        }
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>
    /// Takes every slot Postgres has: fills them, ends every other client's connection (the API's pooled ones), takes the
    /// slots that frees, until every one of the server's <c>max_connections</c> slots is one of ours (the API may win a
    /// freed slot in a round). The caller disposes the connections returned, which gives the slots back.
    /// </summary>
    /// <remarks>
    /// Counting our own connections against <c>max_connections</c> is what makes it certain: a backend still starting
    /// (authenticating) holds a slot but is not yet in <c>pg_stat_activity</c>, so a round that found no one else to end
    /// could stop with that slot the API's, and a GET meant to be a 503 answered 200 (a clean-clone CI run). Every client
    /// backend counts against <c>max_connections</c> (superusers may use the reserved ones too, and both the API and this
    /// test connect as the superuser); background workers and autovacuum have slots of their own.
    /// </remarks>
    internal static async Task<List<NpgsqlConnection>> TakeEveryConnectionAsync(string connectionString)
    {
        var held = new List<NpgsqlConnection>();
        var ours = new List<int>();
        try
        {
            var slots = 0;
            for (var round = 0; round < 200; round++)
            {
                while (held.Count < 1000)
                {
                    var connection = new NpgsqlConnection(connectionString + ";Pooling=false");
                    try
                    {
                        await connection.OpenAsync();
                    }
                    catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.TooManyConnections)
                    {
                        await connection.DisposeAsync();
                        break;
                    }
                    held.Add(connection);
                    ours.Add(connection.ProcessID);
                }
                if (slots == 0)
                {
                    await using var show = new NpgsqlCommand("SHOW max_connections", held[0]);
                    slots = int.Parse((string)(await show.ExecuteScalarAsync())!, System.Globalization.CultureInfo.InvariantCulture);
                }
                if (held.Count >= slots)
                {
                    break;
                }
                // Waits (up to 5 s each) until each ended backend is gone: a backend still exiting when the next round
                // filled up freed its slot only after this round counted no one else, and the API took it.
                await using var terminate = new NpgsqlCommand("""
                    SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
                    WHERE backend_type = 'client backend' AND NOT (pid = ANY(@ours))
                    """, held[0]);
                terminate.Parameters.AddWithValue("ours", ours.ToArray());
                if ((long)(await terminate.ExecuteScalarAsync())! == 0)
                {
                    // Nobody to end yet every slot not ours: one is held by a backend still starting, which shows up once
                    // it has authenticated.
                    await Task.Delay(20);
                }
            }
            if (held.Count < slots)
            {
                throw new InvalidOperationException($"only {held.Count} of Postgres's {slots} connection slots could be taken");
            }
        }
        catch
        {
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }
            NpgsqlConnection.ClearAllPools();
            throw;
        }
        return held;
    }
}
