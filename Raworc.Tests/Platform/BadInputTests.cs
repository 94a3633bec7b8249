using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Platform;

/// <summary>
/// Text the database cannot store (U+0000), unpaired surrogates and names with a trailing newline are refused with
/// the exact status, code and field, before anything is stored.
/// </summary>
[Collection(RaworcAppCollection.Name)]
public sealed class BadInputTests(RaworcAppFixture fixture)
{
    private const string Nul = "before\u0000after";

    private static async Task<int> CountSessionsAsync(HttpClient client) =>
        int.Parse((await client.GetAsync("/api/v0/sessions?limit=1")).Headers.GetValues("X-Total-Count").Single());

    private static async Task AssertFieldAsync(HttpResponseMessage response, string field, string problem)
    {
        var error = await response.AssertErrorAsync(422, "VALIDATION_ERROR");
        var details = error["details"]!.AsObject();
        Assert.Equal([field], details.Select(d => d.Key).ToArray());
        Assert.Equal(problem, (string?)details[field]![0]);
    }

    public static TheoryData<string, string> NulInSessionFields => new()
    {
        { """{"prompt": "before\u0000after"}""", "prompt" },
        { """{"instructions": "before\u0000after"}""", "instructions" },
        { """{"setup": "echo \u0000"}""", "setup" },
        { """{"metadata": {"note": "before\u0000after"}}""", "metadata" },
        { """{"metadata": {"deep": [1, {"x": "\u0000"}]}}""", "metadata" },
        { """{"metadata": {"key\u0000": 1}}""", "metadata" },
    };

    [Theory]
    [MemberData(nameof(NulInSessionFields))]
    public async Task NulInASessionFieldIsAValidationErrorNamingTheFieldAndNothingIsCreated(string body, string field)
    {
        var (_, client) = await fixture.CreateOperatorAsync("nul");
        using var _c = client;
        await AssertFieldAsync(await client.PostAsync("/api/v0/sessions", Http.RawJson(body)), field, "must not contain the NUL character (U+0000)");
        Assert.Equal(0, await CountSessionsAsync(client));
    }

    [Fact]
    public async Task NulInASecretValueIsAValidationErrorNamingTheKey()
    {
        var (_, client) = await fixture.CreateOperatorAsync("nulsecret");
        using var _c = client;
        await AssertFieldAsync(await client.PostAsync("/api/v0/sessions", Http.Json(new { secrets = new Dictionary<string, string> { ["MY_KEY"] = Nul } })),
            "secrets", "value of 'MY_KEY' must not contain the NUL character (U+0000)");
        Assert.Equal(0, await CountSessionsAsync(client));
    }

    [Fact]
    public async Task MessageWithNulIsAValidationErrorAndNothingIsStored()
    {
        var (_, client) = await fixture.CreateOperatorAsync("nulmsg");
        using var _c = client;
        var session = await client.CreateSessionAsync();
        var path = $"/api/v0/sessions/{session.Id()}/messages";

        await AssertFieldAsync(await client.PostAsync(path, Http.Json(new { content = Nul })), "content", "must not contain the NUL character (U+0000)");
        await AssertFieldAsync(await client.PostAsync(path, Http.Json(new { content = "fine", metadata = new { tag = Nul } })),
            "metadata", "must not contain the NUL character (U+0000)");
        Assert.Empty(await client.GetMessagesAsync(session.Id().ToString()));
        Assert.Equal("init", (string?)(await client.GetSessionAsync(session.Id().ToString()))["state"]);
    }

    [Fact]
    public async Task NulInSessionUpdateRestoreAndRemixIsAValidationErrorNamingTheField()
    {
        var (_, client) = await fixture.CreateOperatorAsync("nulact");
        using var _c = client;
        var session = await client.CreateSessionAsync();
        var id = session.Id();
        await AssertFieldAsync(await client.PutAsync($"/api/v0/sessions/{id}", Http.Json(new { metadata = new { a = Nul } })),
            "metadata", "must not contain the NUL character (U+0000)");
        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        await AssertFieldAsync(await client.PostAsync($"/api/v0/sessions/{id}/restore", Http.Json(new { prompt = Nul })),
            "prompt", "must not contain the NUL character (U+0000)");
        await AssertFieldAsync(await client.PostAsync($"/api/v0/sessions/{id}/remix", Http.Json(new { prompt = Nul })),
            "prompt", "must not contain the NUL character (U+0000)");

        Assert.Equal("closed", (string?)(await client.GetSessionAsync(id.ToString()))["state"]);
        Assert.Equal("{}", (await client.GetSessionAsync(id.ToString()))["metadata"]!.ToJsonString());
        Assert.Equal(1, await CountSessionsAsync(client));
        Assert.Empty(await client.GetMessagesAsync(id.ToString()));
    }

    [Fact]
    public async Task NulInOperatorFieldsIsAValidationErrorNamingTheField()
    {
        using var admin = await fixture.AdminClientAsync();
        var name = SessionTestExtensions.UniqueName("nulop");
        await AssertFieldAsync(await admin.PostAsync("/api/v0/operators", Http.Json(new { user = name, pass = "good-pass-1", description = Nul })),
            "description", "must not contain the NUL character (U+0000)");
        await AssertFieldAsync(await admin.PostAsync("/api/v0/operators", Http.Json(new { user = name, pass = "good\u0000pass" })),
            "pass", "must not contain the NUL character (U+0000)");
        await (await admin.GetAsync($"/api/v0/operators/{name}")).AssertErrorAsync(404, "NOT_FOUND");

        Assert.True((await admin.PostAsync("/api/v0/operators", Http.Json(new { user = name, pass = "good-pass-1" }))).IsSuccessStatusCode);
        await AssertFieldAsync(await admin.PutAsync($"/api/v0/operators/{name}", Http.Json(new { description = Nul })),
            "description", "must not contain the NUL character (U+0000)");
        await AssertFieldAsync(await admin.PutAsync($"/api/v0/operators/{name}/password", Http.Json(new { new_password = "new\u0000password" })),
            "new_password", "must not contain the NUL character (U+0000)");
        Assert.Null((await (await admin.GetAsync($"/api/v0/operators/{name}")).ReadObjectAsync())["description"]);
    }

    [Fact]
    public async Task LoginWithNulInTheNameIsAValidationErrorNotAFailure()
    {
        using var client = fixture.CreateApiClient();
        await AssertFieldAsync(await client.PostAsync("/api/v0/auth/login", Http.Json(new { user = "ad\u0000min", pass = "whatever-1" })),
            "user", "must not contain the NUL character (U+0000)");
    }

    [Theory]
    [InlineData("prod\n")]
    [InlineData("prod\r\n")]
    [InlineData("prod\u0000")]
    public async Task SessionNameWithATrailingLineBreakOrNulIsRefused(string name)
    {
        var (_, client) = await fixture.CreateOperatorAsync("trail");
        using var _c = client;
        var error = await (await client.PostAsync("/api/v0/sessions", Http.Json(new { name }))).AssertErrorAsync(422, "VALIDATION_ERROR");
        Assert.Equal(["name"], error["details"]!.AsObject().Select(d => d.Key).ToArray());
        var session = await client.CreateSessionAsync();
        error = await (await client.PutAsync($"/api/v0/sessions/{session.Id()}", Http.Json(new { name }))).AssertErrorAsync(422, "VALIDATION_ERROR");
        Assert.Equal(["name"], error["details"]!.AsObject().Select(d => d.Key).ToArray());
        await (await client.PostAsync($"/api/v0/sessions/{session.Id()}/remix", Http.Json(new { name }))).AssertErrorAsync(422, "VALIDATION_ERROR");
        Assert.Equal(1, await CountSessionsAsync(client));
    }

    [Fact]
    public async Task OperatorNameWithATrailingNewlineIsRefused()
    {
        using var admin = await fixture.AdminClientAsync();
        var name = SessionTestExtensions.UniqueName("trailop") + "\n";
        var error = await (await admin.PostAsync("/api/v0/operators", Http.Json(new { user = name, pass = "good-pass-1" }))).AssertErrorAsync(422, "VALIDATION_ERROR");
        Assert.Equal(["user"], error["details"]!.AsObject().Select(d => d.Key).ToArray());
    }

    [Fact]
    public async Task SecretNameWithATrailingNewlineIsRefusedNamingTheKey()
    {
        var (_, client) = await fixture.CreateOperatorAsync("trailsecret");
        using var _c = client;
        await AssertFieldAsync(await client.PostAsync("/api/v0/sessions", Http.Json(new { secrets = new Dictionary<string, string> { ["MY_KEY\n"] = "v" } })),
            "secrets", "key 'MY_KEY\\u000a' must match [A-Za-z_][A-Za-z0-9_]* (at most 128 characters)");
        Assert.Equal(0, await CountSessionsAsync(client));
    }

    public static TheoryData<string> ReservedSecretNames => new()
    {
        "RAWORC_HOST_TOKEN", "RAWORC_MODEL_BASE_URL", "raworc_model_base_url", "PATH", "HOME", "USER", "SHELL", "LD_PRELOAD",
        "BASH_ENV", "ENV", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_BASE", "ANTHROPIC_API_URL",
    };

    [Theory]
    [MemberData(nameof(ReservedSecretNames))]
    public async Task ReservedSecretNameIsAValidationErrorNamingTheKeyAndNothingIsCreated(string key)
    {
        var (_, client) = await fixture.CreateOperatorAsync("reserved");
        using var _c = client;
        await AssertFieldAsync(await client.PostAsync("/api/v0/sessions", Http.Json(new { secrets = new Dictionary<string, string> { ["FINE"] = "1", [key] = "x" } })),
            "secrets", $"key '{key}' is reserved by the platform (see the README, \"Reserved secret names\")");
        Assert.Equal(0, await CountSessionsAsync(client));
    }

    [Fact]
    public async Task SessionMayBringItsOwnModelKeys()
    {
        var (_, client) = await fixture.CreateOperatorAsync("ownkey");
        using var _c = client;
        await client.CreateSessionAsync(new { secrets = new Dictionary<string, string> { ["ANTHROPIC_API_KEY"] = "sk-a", ["OPENAI_API_KEY"] = "sk-o" } });
    }

    public static TheoryData<string> UnpairedSurrogates => new()
    {
        """{"metadata": {"note": "\ud800"}}""",
        """{"metadata": {"\udc00": 1}}""",
        """{"prompt": "\ud800"}""",
        """{"secrets": {"A": "\udc00"}}""",
    };

    [Theory]
    [MemberData(nameof(UnpairedSurrogates))]
    public async Task UnpairedSurrogateEscapeIsABadRequestAndNothingIsCreated(string body)
    {
        var (_, client) = await fixture.CreateOperatorAsync("surrogate");
        using var _c = client;
        await (await client.PostAsync("/api/v0/sessions", Http.RawJson(body))).AssertErrorAsync(400, "BAD_REQUEST");
        Assert.Equal(0, await CountSessionsAsync(client));
    }

    [Theory]
    [InlineData("/api/v0/sessions/demo%00x")]
    [InlineData("/api/v0/sessions/demo%00x/messages")]
    [InlineData("/api/v0/operators/demo%00x")]
    public async Task PathWithAnEncodedNulIsRefusedBeforeItReachesTheDatabase(string path)
    {
        using var admin = await fixture.AdminClientAsync();
        // Kestrel refuses a request target holding %00 itself, before any middleware runs.
        Assert.Equal(400, (int)(await admin.GetAsync(path)).StatusCode);
        Assert.Equal(400, (int)(await admin.PostAsync("/api/v0/operators/ad%00min/login", Http.Json(new { pass = "whatever-1" }))).StatusCode);
    }

    [Theory]
    [InlineData("/api/v0/sessions/%ED%A0%80")]
    [InlineData("/api/v0/sessions/%FF")]
    public async Task PathWithInvalidUtf8IsNotFound(string path)
    {
        using var admin = await fixture.AdminClientAsync();
        var error = await (await admin.GetAsync(path)).AssertErrorAsync(404, "NOT_FOUND");
        Assert.Equal("Session not found.", (string?)error["message"]);
    }

    private static async Task AssertBadRequestAsync(HttpResponseMessage response, string message)
    {
        var error = await response.AssertErrorAsync(400, "BAD_REQUEST");
        Assert.Equal(message, (string?)error["message"]);
        Assert.Null(error["details"]);
    }

    private static ByteArrayContent Utf8Bytes(params byte[][] parts)
    {
        var content = new ByteArrayContent([.. parts.SelectMany(p => p)]);
        content.Headers.ContentType = new("application/json");
        return content;
    }

    [Fact]
    public async Task MisspeltFieldIsRefusedNamingItAndNothingIsCreated()
    {
        var (_, client) = await fixture.CreateOperatorAsync("unknownfield");
        using var _c = client;
        await AssertBadRequestAsync(await client.PostAsync("/api/v0/sessions", Http.RawJson("""{"nmae": "x"}""")),
            "Unknown field 'nmae'; this request takes name, metadata, secrets, instructions, setup, prompt, timeout_seconds, desktop.");
        Assert.Equal(0, await CountSessionsAsync(client));
        var session = await client.CreateSessionAsync();
        // "role" is a field (Raworc 0.3.5's clients send it; a role other than the token's is a 422, see MessagesTests).
        await AssertBadRequestAsync(await client.PostAsync($"/api/v0/sessions/{session.Id()}/messages", Http.RawJson("""{"content": "hi", "rol": "host"}""")),
            "Unknown field 'rol'; this request takes content, metadata, role.");
        Assert.Empty(await client.GetMessagesAsync(session.Id().ToString()));
    }

    public static TheoryData<string, string> BadQueryValues => new()
    {
        { "/api/v0/sessions?limit=abc", "limit must be an integer." },
        { "/api/v0/sessions?offset=1.5&limit=99999999999999999999", "limit must be an integer. offset must be an integer." },
        { "/api/v0/operators?Limit=1e3", "limit must be an integer." },
        { "/api/v0/sessions/{id}/messages?after=not-a-uuid", "after must be a UUID." },
        { "/api/v0/sessions/{id}/messages?wait=soon", "wait must be an integer." },
        { "/api/v0/sessions/{id}/messages?order=newest", "order must be asc or desc." },
        { "/api/v0/sessions/{id}/messages?before=8a0c6c1e-3f0e-4c55-9d6a-2b1f3f6f0c11", "before must be the id of a message of this session." },
    };

    [Theory]
    [MemberData(nameof(BadQueryValues))]
    public async Task BadQueryValueIsABadRequestInTheContractsWords(string path, string message)
    {
        using var admin = await fixture.AdminClientAsync();
        var session = await admin.CreateSessionAsync();
        await AssertBadRequestAsync(await admin.GetAsync(path.Replace("{id}", session.Id().ToString())), message);
    }

    [Fact]
    public async Task MissingOrNullBodyIsABadRequestNamingTheBody()
    {
        using var admin = await fixture.AdminClientAsync();
        await AssertBadRequestAsync(await admin.PostAsync("/api/v0/operators", Http.RawJson("")), "body is required: send a JSON object.");
        await AssertBadRequestAsync(await admin.PostAsync("/api/v0/operators", null), "body is required: send a JSON object.");
        await AssertBadRequestAsync(await admin.PostAsync("/api/v0/operators", Http.RawJson("null")), "body must be a JSON object, not null.");
        await AssertBadRequestAsync(await admin.PostAsync("/api/v0/operators", Http.RawJson("[]")), "body must be a JSON object.");
        await AssertBadRequestAsync(await admin.PostAsync("/api/v0/sessions", Http.RawJson("\"name\"")), "body must be a JSON object.");
        await AssertBadRequestAsync(await admin.PostAsync("/api/v0/sessions", Http.RawJson("""{"name": "x",""")),
            "body is not valid JSON (line 1, byte 13): check its syntax, its UTF-8 encoding and its depth (at most 64 levels).");
    }

    public static TheoryData<string, string> BadSessionBodies => new()
    {
        { """{"name": "a", "name": "b"}""", "Field 'name' must be given once, as a string of valid Unicode text." },
        { """{"metadata": {"a": 1, "a": 2}}""", "Field 'metadata' has a key given twice in one object." },
        { """{"metadata": {"deep": [{"a": 1, "a": 2}]}}""", "Field 'metadata' has a key given twice in one object." },
        { """{"metadata": [1]}""", "Field 'metadata' must be a JSON object." },
        { """{"secrets": {"A": "x", "A": "y"}}""", "Field 'secrets' must be given once, as a JSON object whose values are strings." },
        { """{"secrets": {"A": 1}}""", "Field 'secrets' must be a JSON object whose values are strings." },
        { """{"name": 5}""", "Field 'name' must be a string of valid Unicode text." },
        { """{"timeout_seconds": 1e400}""", "Field 'timeout_seconds' must be an integer." },
        { """{"timeout_seconds": 99999999999999999999}""", "Field 'timeout_seconds' must be an integer." },
        { """{"timeout_seconds": true}""", "Field 'timeout_seconds' must be an integer." },
    };

    [Theory]
    [MemberData(nameof(BadSessionBodies))]
    public async Task MalformedFieldIsABadRequestNamingItAndNothingIsCreated(string body, string message)
    {
        var (_, client) = await fixture.CreateOperatorAsync("badfield");
        using var _c = client;
        await AssertBadRequestAsync(await client.PostAsync("/api/v0/sessions", Http.RawJson(body)), message);
        Assert.Equal(0, await CountSessionsAsync(client));
    }

    [Fact]
    public async Task InvalidUtf8InAFieldIsABadRequestNamingIt()
    {
        var (_, client) = await fixture.CreateOperatorAsync("badutf8");
        using var _c = client;
        await AssertBadRequestAsync(await client.PostAsync("/api/v0/sessions", Utf8Bytes("""{"prompt": "a"""u8.ToArray(), [0xC3, 0x28], "\"}"u8.ToArray())),
            "Field 'prompt' must be a string of valid Unicode text.");
        Assert.Equal(0, await CountSessionsAsync(client));
    }
}
