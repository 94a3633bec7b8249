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
}
