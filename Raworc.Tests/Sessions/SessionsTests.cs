using System.Net;
using Aspire.Hosting.Testing;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Sessions;

[Collection(RaworcAppCollection.Name)]
public sealed class SessionsTests(RaworcAppFixture fixture)
{
    [Fact]
    public async Task CreatedSessionStartsInInitWithDefaultsAndQueuedCreation()
    {
        var (owner, client) = await fixture.CreateOperatorAsync("creator");
        using var _ = client;
        var response = await client.PostAsync("/api/v0/sessions", Http.Json(new { }));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var session = await response.ReadObjectAsync();
        Assert.Equal($"/api/v0/sessions/{session["id"]}", response.Headers.Location?.ToString());
        Assert.Equal(
            ["auto_close_at", "closed_at", "container_id", "created_at", "created_by", "desktop", "error", "id", "is_published", "last_activity_at",
             "metadata", "name", "parent_session_id", "persistent_volume_id", "publish_permissions", "published_at", "published_by",
             "started_at", "state", "timeout_seconds", "usage"],
            session.Select(p => p.Key).Order().ToArray());
        Assert.Equal("init", (string?)session["state"]);
        Assert.Equal(owner, (string?)session["created_by"]);
        Assert.Equal(300, (int)session["timeout_seconds"]!);
        Assert.Equal("{}", session["metadata"]!.ToJsonString());
        Assert.Equal("""{"data":true,"code":true,"secrets":false}""", session["publish_permissions"]!.ToJsonString());
        Assert.Equal("""{"model_calls":0,"input_tokens":0,"output_tokens":0}""", session["usage"]!.ToJsonString());
        Assert.False((bool)session["is_published"]!);
        Assert.Null(session["name"]);
        Assert.Null(session["error"]);

        var work = await fixture.QueryAsync<string>("SELECT kind FROM work_items WHERE session_id = @id ORDER BY id", ("id", session.Id()));
        Assert.Equal(["create"], work);
    }

    [Fact]
    public async Task PromptBecomesTheFirstUserMessage()
    {
        var (_, client) = await fixture.CreateOperatorAsync("prompter");
        using var _ = client;
        var session = await client.CreateSessionAsync(new { prompt = "write hello.txt" });

        var messages = await client.GetMessagesAsync(session.Id().ToString());
        var message = Assert.Single(messages)!.AsObject();
        Assert.Equal("user", (string?)message["role"]);
        Assert.Equal("write hello.txt", (string?)message["content"]);
        Assert.Equal(session.Id().ToString(), (string?)message["session_id"]);
    }

    [Fact]
    public async Task SessionIsFoundByIdAndByName()
    {
        var (_, client) = await fixture.CreateOperatorAsync("finder");
        using var _ = client;
        var name = SessionTestExtensions.UniqueName("named");
        var session = await client.CreateSessionAsync(new { name, metadata = new { team = "qa", n = 3 } });

        Assert.Equal(name, (string?)(await client.GetSessionAsync(session.Id().ToString()))["name"]);
        var byName = await client.GetSessionAsync(name);
        Assert.Equal(session.Id(), byName.Id());
        Assert.Equal("qa", (string?)byName["metadata"]!["team"]);
    }

    /// <summary>
    /// Text beyond ASCII is stored and given back as sent, in the metadata and a message (names are ASCII by rule). Found with the offline
    /// Postgres image, whose databases were SQL_ASCII: a <c>jsonb</c> value with such a character, escaped by the JSON
    /// writer as <c>\u00e9</c>, was refused by Postgres and the create answered 503.
    /// </summary>
    [Fact]
    public async Task TextBeyondAsciiIsStoredAndGivenBackAsSent()
    {
        var (_, client) = await fixture.CreateOperatorAsync("unicode");
        using var _ = client;
        var name = SessionTestExtensions.UniqueName("unicode");
        var response = await client.PostAsync("/api/v0/sessions",
            Http.Json(new { name, metadata = new { title = "Crème brûlée ☕", lang = "日本語" }, prompt = "Grüße, 世界 🌍" }));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.ReadObjectAsync()).Id();

        var session = await client.GetSessionAsync(name);
        Assert.Equal(id, session.Id());
        Assert.Equal("""{"lang":"日本語","title":"Crème brûlée ☕"}""",
            System.Text.Json.JsonSerializer.Serialize(session["metadata"], new System.Text.Json.JsonSerializerOptions
            {
                Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            }));
        var prompt = Assert.Single(await client.GetMessagesAsync(id.ToString()));
        Assert.Equal("Grüße, 世界 🌍", (string?)prompt!["content"]);
    }

    [Fact]
    public async Task ListShowsOnlyTheCallersSessionsNewestFirstButAllToAdmins()
    {
        var (alice, aliceClient) = await fixture.CreateOperatorAsync("lister-a");
        var (_, bobClient) = await fixture.CreateOperatorAsync("lister-b");
        using var a = aliceClient;
        using var b = bobClient;
        var first = await aliceClient.CreateSessionAsync();
        var second = await aliceClient.CreateSessionAsync();
        var bobs = await bobClient.CreateSessionAsync();

        var response = await aliceClient.GetAsync("/api/v0/sessions");
        Assert.Equal("2", response.Headers.GetValues("X-Total-Count").Single());
        var ids = (await response.ReadArrayAsync()).Select(s => Guid.Parse((string)s!["id"]!)).ToArray();
        Assert.Equal([second.Id(), first.Id()], ids);

        using var admin = await fixture.AdminClientAsync();
        var all = await (await admin.GetAsync("/api/v0/sessions?limit=1000")).ReadArrayAsync();
        Assert.Contains(all, s => Guid.Parse((string)s!["id"]!) == bobs.Id());
        Assert.Contains(all, s => (string?)s!["created_by"] == alice);
    }

    /// <summary>
    /// A user's or operator's list takes its total from their row of <c>session_totals</c>, which triggers on
    /// <c>sessions</c> keep: it stays the exact count through concurrent creates and deletes and through rows written
    /// straight into the database (as a script or an older replica would), and an operator and a user of the same name
    /// keep totals apart, as they keep lists apart.
    /// </summary>
    [Fact]
    public async Task TheListsTotalIsTheOwnersCountThroughConcurrentCreatesDeletesAndRowsWrittenInTheDatabase()
    {
        var (name, client) = await fixture.CreateOperatorAsync("totals");
        using var _ = client;
        using var namesake = fixture.CreateApiClient(Auth.TokenForgery.Create(RaworcAppFixture.JwtSigningKey, subject: name, type: "User"));
        var created = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => client.CreateSessionAsync()));
        var namesakes = await namesake.CreateSessionAsync();

        var deletes = await Task.WhenAll(created.Take(5).Select(session => client.DeleteAsync($"/api/v0/sessions/{session.Id()}")));
        Assert.All(deletes, response => Assert.Equal(HttpStatusCode.NoContent, response.StatusCode));
        await fixture.QueryAsync<Guid>("""
            INSERT INTO sessions (id, created_by, created_by_type, created_by_operator_id, state, created_at, last_activity_at, closed_at,
                                  metadata, is_published, publish_data, publish_code, publish_secrets, timeout_seconds, secret_names,
                                  computer_start, usage_input_tokens, usage_model_calls, usage_output_tokens)
            SELECT gen_random_uuid(), o.name, 'Operator', o.id, 'closed', now() - make_interval(secs => 86400 + n), now(), now(),
                   '{"written":"straight"}', false, true, true, false, 300, '{}', 1, 0, 0, 0
            FROM operators o, generate_series(1, 30) n WHERE o.name = @name
            RETURNING id
            """, ("name", name));
        await fixture.QueryAsync<Guid>("""
            DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE created_by = @name AND metadata = '{"written":"straight"}' LIMIT 10)
            RETURNING id
            """, ("name", name));

        var page = await client.GetAsync("/api/v0/sessions?limit=5");
        Assert.Equal("27", page.Headers.GetValues("X-Total-Count").Single());
        Assert.Equal([27L], await fixture.QueryAsync<long>(
            "SELECT count(*) FROM sessions s JOIN operators o ON o.id = s.created_by_operator_id WHERE o.name = @name", ("name", name)));
        var namesakesPage = await namesake.GetAsync("/api/v0/sessions");
        Assert.Equal("1", namesakesPage.Headers.GetValues("X-Total-Count").Single());
        Assert.Equal(namesakes.Id(), Guid.Parse((string)(await namesakesPage.ReadArrayAsync()).Single()!["id"]!));
    }

    [Fact]
    public async Task AnAdminsWholeListCountsEverySessionAndOneStatesListCountsThatState()
    {
        var (_, client) = await fixture.CreateOperatorAsync("admintotal");
        using var _ = client;
        await client.CreateSessionAsync();
        using var admin = await fixture.AdminClientAsync();

        // Writers to sessions wait while the test holds the table in SHARE mode (other tests share this database), so the
        // count read here and the totals the API reads are of the same rows; readers go on.
        await using var connection = new Npgsql.NpgsqlConnection(await fixture.App.GetConnectionStringAsync(ResourceNames.Database));
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var lockTable = new Npgsql.NpgsqlCommand("LOCK TABLE sessions IN SHARE MODE", connection, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }
        async Task<long> CountAsync(string sql)
        {
            await using var count = new Npgsql.NpgsqlCommand(sql, connection, transaction);
            return (long)(await count.ExecuteScalarAsync())!;
        }
        var all = await CountAsync("SELECT count(*) FROM sessions");
        var closed = await CountAsync("SELECT count(*) FROM sessions WHERE state = 'closed'");

        var page = await admin.GetAsync("/api/v0/sessions?limit=1");
        var closedPage = await admin.GetAsync("/api/v0/sessions?limit=1&state=closed");
        await transaction.RollbackAsync();

        Assert.True(all >= 1, $"{all} sessions");
        Assert.Equal(all.ToString(System.Globalization.CultureInfo.InvariantCulture), page.Headers.GetValues("X-Total-Count").Single());
        Assert.Equal(closed.ToString(System.Globalization.CultureInfo.InvariantCulture), closedPage.Headers.GetValues("X-Total-Count").Single());
    }

    [Fact]
    public async Task ACursorWalksTheListNewestFirstWithoutGapsOrRepeats()
    {
        var (_, client) = await fixture.CreateOperatorAsync("walker");
        using var _ = client;
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((string)(await client.CreateSessionAsync())["id"]!);
        }
        created.Reverse();

        var first = await client.GetAsync("/api/v0/sessions?limit=2");
        Assert.Equal("5", first.Headers.GetValues("X-Total-Count").Single());
        var seen = (await first.ReadArrayAsync()).Select(s => (string)s!["id"]!).ToList();
        var next = first.Headers.GetValues("X-Next-Cursor").Single();
        Assert.Equal($"</api/v0/sessions?after={next}&limit=2>; rel=\"next\"", first.Headers.GetValues("Link").Single());
        while (true)
        {
            var page = await client.GetAsync($"/api/v0/sessions?after={next}&limit=2");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.False(page.Headers.Contains("X-Total-Count"));
            seen.AddRange((await page.ReadArrayAsync()).Select(s => (string)s!["id"]!));
            if (!page.Headers.TryGetValues("X-Next-Cursor", out var cursor))
            {
                break;
            }
            next = cursor.Single();
        }
        Assert.Equal(created, seen);

        await (await client.GetAsync("/api/v0/sessions?after=not-a-cursor")).AssertErrorAsync(400, "BAD_REQUEST");
        await (await client.GetAsync($"/api/v0/sessions?after={next}&offset=2")).AssertErrorAsync(400, "BAD_REQUEST");
    }

    [Fact]
    public async Task StateFilterListsOnlyThatState()
    {
        var (_, client) = await fixture.CreateOperatorAsync("filter");
        using var _ = client;
        var open = await client.CreateSessionAsync();
        var closed = await client.CreateSessionAsync();
        await client.PostOkAsync($"/api/v0/sessions/{closed.Id()}/close");

        var closedOnes = await (await client.GetAsync("/api/v0/sessions?state=closed")).ReadArrayAsync();
        Assert.Equal([closed.Id()], closedOnes.Select(s => Guid.Parse((string)s!["id"]!)).ToArray());
        var initOnes = await (await client.GetAsync("/api/v0/sessions?state=init")).ReadArrayAsync();
        Assert.Equal([open.Id()], initOnes.Select(s => Guid.Parse((string)s!["id"]!)).ToArray());
    }

    [Fact]
    public async Task TwentyConcurrentCreatesAllSucceedWithDistinctIds()
    {
        var (_, client) = await fixture.CreateOperatorAsync("burst");
        using var _ = client;
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.PostAsync("/api/v0/sessions", Http.Json(new { }))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var ids = await Task.WhenAll(responses.Select(async r => (await r.ReadObjectAsync()).Id()));
        Assert.Equal(20, ids.Distinct().Count());
        Assert.Equal("20", (await client.GetAsync("/api/v0/sessions")).Headers.GetValues("X-Total-Count").Single());
    }

    [Fact]
    public async Task UpdateChangesNameMetadataAndTimeout()
    {
        var (_, client) = await fixture.CreateOperatorAsync("editor");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        var name = SessionTestExtensions.UniqueName("renamed");

        var response = await client.PutAsync($"/api/v0/sessions/{session.Id()}", Http.Json(new { name, metadata = new { k = "v" }, timeout_seconds = 60 }));
        var updated = await response.ReadObjectAsync();
        Assert.Equal(name, (string?)updated["name"]);
        Assert.Equal("""{"k":"v"}""", updated["metadata"]!.ToJsonString());
        Assert.Equal(60, (int)updated["timeout_seconds"]!);

        await (await client.PutAsync($"/api/v0/sessions/{session.Id()}", Http.Json(new { }))).AssertErrorAsync(422, "VALIDATION_ERROR");
    }

    [Fact]
    public async Task TimeoutChangeOnAnIdleSessionMovesTheDeadline()
    {
        var (_, client) = await fixture.CreateOperatorAsync("mover");
        using var _ = client;
        var session = await client.CreateSessionAsync(new { timeout_seconds = 600 });
        using var host = fixture.CreateHostClient(session.Id());
        await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/idle");

        var updated = await (await client.PutAsync($"/api/v0/sessions/{session.Id()}", Http.Json(new { timeout_seconds = 1000 }))).ReadObjectAsync();
        var lastActivity = DateTimeOffset.Parse((string)updated["last_activity_at"]!);
        Assert.Equal(lastActivity.AddSeconds(1000), DateTimeOffset.Parse((string)updated["auto_close_at"]!));
    }

    [Fact]
    public async Task DeleteRemovesTheSessionAndFreesItsName()
    {
        var (_, client) = await fixture.CreateOperatorAsync("deleter");
        using var _ = client;
        var name = SessionTestExtensions.UniqueName("gone");
        var session = await client.CreateSessionAsync(new { name, prompt = "hi" });

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v0/sessions/{name}")).StatusCode);
        await (await client.GetAsync($"/api/v0/sessions/{session.Id()}")).AssertErrorAsync(404, "NOT_FOUND");
        Assert.Equal([0L], await fixture.QueryAsync<long>("SELECT count(*) FROM messages WHERE session_id = @id", ("id", session.Id())));
        Assert.Equal(["delete"], await fixture.QueryAsync<string>("SELECT kind FROM work_items WHERE session_id = @id", ("id", session.Id())));

        await client.CreateSessionAsync(new { name });
    }

    [Fact]
    public async Task SecretsAreEncryptedAtRestAndNeverReturned()
    {
        const string secret = "s3cr3t-VALUE-do-not-leak";
        var (_, client) = await fixture.CreateOperatorAsync("keeper");
        using var _ = client;
        var name = SessionTestExtensions.UniqueName("secretive");
        var bodies = new List<string>();
        var created = await client.PostAsync("/api/v0/sessions", Http.Json(new { name, secrets = new { API_TOKEN = secret }, instructions = "be brief", setup = "echo hi" }));
        bodies.Add(await created.Content.ReadAsStringAsync());
        var id = (await created.ReadObjectAsync()).Id();
        bodies.Add(await (await client.GetAsync($"/api/v0/sessions/{id}")).Content.ReadAsStringAsync());
        bodies.Add(await (await client.GetAsync("/api/v0/sessions")).Content.ReadAsStringAsync());
        bodies.Add(await (await client.PostAsync($"/api/v0/sessions/{id}/publish", Http.Json(new { secrets = true }))).Content.ReadAsStringAsync());
        using var anonymous = fixture.CreateApiClient();
        bodies.Add(await (await anonymous.GetAsync($"/api/v0/published/sessions/{id}")).Content.ReadAsStringAsync());
        bodies.Add(await (await client.PostAsync($"/api/v0/sessions/{id}/remix", Http.Json(new { }))).Content.ReadAsStringAsync());

        foreach (var body in bodies)
        {
            Assert.DoesNotContain(secret, body);
            Assert.DoesNotContain("API_TOKEN", body);
            Assert.DoesNotContain("be brief", body);
            Assert.DoesNotContain("echo hi", body);
        }
        var stored = Assert.Single(await fixture.QueryAsync<string>("SELECT protected_secrets FROM sessions WHERE id = @id", ("id", id)));
        Assert.DoesNotContain(secret, stored);
    }
}
