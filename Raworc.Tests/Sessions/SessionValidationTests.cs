using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Sessions;

[Collection(RaworcAppCollection.Name)]
public sealed class SessionValidationTests(RaworcAppFixture fixture)
{
    private async Task<(HttpClient Client, int Before)> OwnerAsync()
    {
        var (_, client) = await fixture.CreateOperatorAsync("validator");
        return (client, await CountAsync(client));
    }

    private static async Task<int> CountAsync(HttpClient client) =>
        int.Parse((await client.GetAsync("/api/v0/sessions?limit=1")).Headers.GetValues("X-Total-Count").Single());

    public static TheoryData<string, string> InvalidValues => new()
    {
        { """{"name": "has_underscore"}""", "name" },
        { """{"name": "has space"}""", "name" },
        { """{"name": "-leading-dash"}""", "name" },
        { """{"name": "550e8400-e29b-41d4-a716-446655440000"}""", "name" },
        { "{\"name\": \"" + new string('a', 101) + "\"}", "name" },
        { """{"timeout_seconds": 0}""", "timeout_seconds" },
        { """{"timeout_seconds": -1}""", "timeout_seconds" },
        { """{"timeout_seconds": 604801}""", "timeout_seconds" },
        { """{"secrets": {"1BAD": "x"}}""", "secrets" },
        { """{"secrets": {"BAD-KEY": "x"}}""", "secrets" },
        { "{\"metadata\": {\"blob\": \"" + new string('m', 65 * 1024) + "\"}}", "metadata" },
        { """{"prompt": ""}""", "prompt" },
        { "{\"prompt\": \"" + new string('p', 100_001) + "\"}", "prompt" },
    };

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public async Task InvalidValuesAreRejectedAndNothingIsCreated(string body, string field)
    {
        var (client, before) = await OwnerAsync();
        using var _ = client;
        var error = await (await client.PostAsync("/api/v0/sessions", Http.RawJson(body))).AssertErrorAsync(422, "VALIDATION_ERROR");
        Assert.Equal([field], error["details"]!.AsObject().Select(d => d.Key).ToArray());
        Assert.Equal(before, await CountAsync(client));
    }

    public static TheoryData<string> WrongTypes => new()
    {
        """{"timeout_seconds": "abc"}""",
        """{"timeout_seconds": 1.5}""",
        """{"secrets": ["A", "B"]}""",
        """{"secrets": {"A": 1}}""",
        """{"secrets": {"A": {"nested": "x"}}}""",
        """{"metadata": [1, 2]}""",
        """{"metadata": "text"}""",
        """{"name": 7}""",
        """not json""",
    };

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public async Task WrongJsonTypesAreBadRequestsAndNothingIsCreated(string body)
    {
        var (client, before) = await OwnerAsync();
        using var _ = client;
        await (await client.PostAsync("/api/v0/sessions", Http.RawJson(body))).AssertErrorAsync(400, "BAD_REQUEST");
        Assert.Equal(before, await CountAsync(client));
    }

    [Fact]
    public async Task HundredCharacterNameIsAccepted()
    {
        var (client, _) = await OwnerAsync();
        using var _c = client;
        var name = ("a" + Guid.NewGuid().ToString("N") + new string('b', 100))[..100];
        var session = await client.CreateSessionAsync(new { name });
        Assert.Equal(name, (string?)session["name"]);
    }

    [Fact]
    public async Task NameClashIsAConflictAcrossOwners()
    {
        var (_, first) = await fixture.CreateOperatorAsync("clash-a");
        var (_, second) = await fixture.CreateOperatorAsync("clash-b");
        using var a = first;
        using var b = second;
        var name = SessionTestExtensions.UniqueName("taken");
        await first.CreateSessionAsync(new { name });
        await (await second.PostAsync("/api/v0/sessions", Http.Json(new { name }))).AssertErrorAsync(409, "CONFLICT");
        var other = await second.CreateSessionAsync();
        await (await second.PutAsync($"/api/v0/sessions/{other.Id()}", Http.Json(new { name }))).AssertErrorAsync(409, "CONFLICT");
    }

    [Theory]
    [InlineData("?limit=0")]
    [InlineData("?limit=1001")]
    [InlineData("?offset=-1")]
    [InlineData("?state=sleeping")]
    public async Task BadListQueriesAreBadRequests(string query)
    {
        var (client, _) = await OwnerAsync();
        using var _c = client;
        await (await client.GetAsync($"/api/v0/sessions{query}")).AssertErrorAsync(400, "BAD_REQUEST");
    }

    [Theory]
    [InlineData("?wait=31")]
    [InlineData("?wait=-1")]
    [InlineData("?limit=0")]
    [InlineData("?limit=1001")]
    [InlineData("?offset=-1")]
    [InlineData("?after=not-a-uuid")]
    public async Task BadMessageQueriesAreBadRequests(string query)
    {
        var (client, _) = await OwnerAsync();
        using var _c = client;
        var session = await client.CreateSessionAsync();
        await (await client.GetAsync($"/api/v0/sessions/{session.Id()}/messages{query}")).AssertErrorAsync(400, "BAD_REQUEST");
    }

    [Fact]
    public async Task AfterMustBeAMessageOfThatSession()
    {
        var (client, _) = await OwnerAsync();
        using var _c = client;
        var one = await client.CreateSessionAsync(new { prompt = "first" });
        var other = await client.CreateSessionAsync();
        var messageOfOne = (string)(await client.GetMessagesAsync(one.Id().ToString()))[0]!["id"]!;

        await (await client.GetAsync($"/api/v0/sessions/{other.Id()}/messages?after={messageOfOne}")).AssertErrorAsync(400, "BAD_REQUEST");
        await (await client.GetAsync($"/api/v0/sessions/{other.Id()}/messages?after={Guid.NewGuid()}")).AssertErrorAsync(400, "BAD_REQUEST");
    }

    [Theory]
    [InlineData("""{"content": ""}""")]
    [InlineData("""{}""")]
    public async Task EmptyMessageIsRejectedAndNothingIsStored(string body)
    {
        var (client, _) = await OwnerAsync();
        using var _c = client;
        var session = await client.CreateSessionAsync();
        await (await client.PostAsync($"/api/v0/sessions/{session.Id()}/messages", Http.RawJson(body))).AssertErrorAsync(422, "VALIDATION_ERROR");
        Assert.Empty(await client.GetMessagesAsync(session.Id().ToString()));
    }

    [Fact]
    public async Task OverlongMessageIsRejected()
    {
        var (client, _) = await OwnerAsync();
        using var _c = client;
        var session = await client.CreateSessionAsync();
        var error = await (await client.PostAsync($"/api/v0/sessions/{session.Id()}/messages", Http.Json(new { content = new string('x', 100_001) })))
            .AssertErrorAsync(422, "VALIDATION_ERROR");
        Assert.Equal("must be at most 100000 characters", (string?)error["details"]!["content"]![0]);
        Assert.Empty(await client.GetMessagesAsync(session.Id().ToString()));
    }
}
