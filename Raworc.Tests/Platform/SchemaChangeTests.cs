using System.Net;
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
}
