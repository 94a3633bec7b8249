using System.Net;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Auth;

[Collection(RaworcAppCollection.Name)]
public sealed class AuthTests(RaworcAppFixture fixture)
{
    [Fact]
    public async Task AdminLogsInWithTheConfiguredPassword()
    {
        using var client = fixture.CreateApiClient();
        var before = DateTimeOffset.UtcNow;
        var response = await client.PostAsync("/api/v0/operators/admin/login", Http.Json(new { user = "admin", pass = RaworcAppFixture.AdminPassword }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.ReadObjectAsync();
        Assert.Equal("Bearer", (string?)body["token_type"]);
        Assert.Equal("admin", (string?)body["user"]);
        Assert.Equal("admin", (string?)body["role"]);
        Assert.Equal(3, ((string)body["token"]!).Split('.').Length);
        var expiresAt = DateTimeOffset.Parse((string)body["expires_at"]!);
        Assert.InRange(expiresAt, before.AddHours(24).AddSeconds(-5), DateTimeOffset.UtcNow.AddHours(24).AddSeconds(5));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", (string)body["expires_at"]!);
    }

    [Fact]
    public async Task AuthLoginTakesTheNameInTheBody()
    {
        using var client = fixture.CreateApiClient();
        var response = await client.PostAsync("/api/v0/auth/login", Http.Json(new { user = "admin", pass = RaworcAppFixture.AdminPassword }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("admin", (string?)(await response.ReadObjectAsync())["user"]);
    }

    [Fact]
    public async Task WrongPasswordUnknownAndInactiveOperatorsGetTheSameUnauthorized()
    {
        var (name, client) = await fixture.CreateOperatorAsync("inactive");
        client.Dispose();
        using var admin = await fixture.AdminClientAsync();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync($"/api/v0/operators/{name}", Http.Json(new { active = false }))).StatusCode);

        using var anonymous = fixture.CreateApiClient();
        var messages = new List<string?>();
        foreach (var (user, pass) in new[] { ("admin", "wrong-password"), ("nobody-here", "whatever-1"), (name, "operator-pass-1") })
        {
            var error = await (await anonymous.PostAsync($"/api/v0/operators/{user}/login", Http.Json(new { pass })))
                .AssertErrorAsync(401, "UNAUTHORIZED");
            messages.Add((string?)error["message"]);
        }
        Assert.Equal(["Invalid user name or password.", "Invalid user name or password.", "Invalid user name or password."], messages);
    }

    [Fact]
    public async Task LoginUserFieldMustMatchThePath()
    {
        using var client = fixture.CreateApiClient();
        var error = await (await client.PostAsync("/api/v0/operators/admin/login", Http.Json(new { user = "someone", pass = "x-password" })))
            .AssertErrorAsync(422, "VALIDATION_ERROR");
        Assert.Equal("must equal the operator name in the path", (string?)error["details"]!["user"]![0]);
    }

    [Fact]
    public async Task GetAuthDescribesTheCaller()
    {
        var (name, client) = await fixture.CreateOperatorAsync("whoami");
        using (client)
        {
            var body = await (await client.GetAsync("/api/v0/auth")).ReadObjectAsync();
            Assert.Equal(name, (string?)body["user"]);
            Assert.Equal("Operator", (string?)body["type"]);
            Assert.Equal("user", (string?)body["role"]);
            Assert.NotNull((string?)body["expires_at"]);
        }
    }

    [Fact]
    public async Task AdminCreatesATokenForAUserPrincipal()
    {
        using var admin = await fixture.AdminClientAsync();
        var response = await admin.PostAsync("/api/v0/auth/token", Http.Json(new { principal = "user@example.com", type = "User", ttl_seconds = 3600 }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = await response.ReadObjectAsync();
        Assert.Equal("user@example.com", (string?)token["user"]);
        Assert.Equal("user", (string?)token["role"]);

        using var user = fixture.CreateApiClient((string)token["token"]!);
        var me = await (await user.GetAsync("/api/v0/auth")).ReadObjectAsync();
        Assert.Equal("user@example.com", (string?)me["user"]);
        Assert.Equal("User", (string?)me["type"]);
        Assert.Equal("user", (string?)me["role"]);
    }

    [Fact]
    public async Task TokenForAMissingOperatorIsNotFound()
    {
        using var admin = await fixture.AdminClientAsync();
        var response = await admin.PostAsync("/api/v0/auth/token", Http.Json(new { principal = "ghost-operator", type = "Operator" }));
        await response.AssertErrorAsync(404, "NOT_FOUND");
    }

    [Fact]
    public async Task TokenRequestWithBadValuesIsRejected()
    {
        using var admin = await fixture.AdminClientAsync();
        var error = await (await admin.PostAsync("/api/v0/auth/token", Http.Json(new { principal = "", type = "Robot", ttl_seconds = 0 })))
            .AssertErrorAsync(422, "VALIDATION_ERROR");
        var details = error["details"]!.AsObject();
        Assert.Equal(["principal", "ttl_seconds", "type"], details.Select(d => d.Key).Order().ToArray());
    }

    [Fact]
    public async Task NonAdminCannotCreateTokens()
    {
        var (_, client) = await fixture.CreateOperatorAsync("plain");
        using (client)
        {
            var response = await client.PostAsync("/api/v0/auth/token", Http.Json(new { principal = "x", type = "User" }));
            await response.AssertErrorAsync(403, "FORBIDDEN");
        }
    }

    public static TheoryData<string, string> RefusedAuthorizations => new()
    {
        { "no header", "" },
        { "Bearer without token", "Bearer " },
        { "garbage", "Bearer not-a-jwt" },
        { "other key", "Bearer " + TokenForgery.Create("another-key-0123456789abcdef0123456789abcdef") },
        { "expired", "Bearer " + TokenForgery.Create(RaworcAppFixture.JwtSigningKey, issuedAt: DateTime.UtcNow.AddHours(-3), expires: DateTime.UtcNow.AddHours(-1)) },
        { "wrong audience", "Bearer " + TokenForgery.Create(RaworcAppFixture.JwtSigningKey, audience: "someone-else") },
        { "wrong issuer", "Bearer " + TokenForgery.Create(RaworcAppFixture.JwtSigningKey, issuer: "someone-else") },
        { "operator without id", "Bearer " + TokenForgery.Create(RaworcAppFixture.JwtSigningKey) },
    };

    [Theory]
    [MemberData(nameof(RefusedAuthorizations))]
    public async Task InvalidTokensAreRefusedWithTheEnvelope(string why, string authorization)
    {
        using var client = fixture.CreateApiClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v0/auth");
        if (authorization.Length > 0)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
        var response = await client.SendAsync(request);
        var error = await response.AssertErrorAsync(401, "UNAUTHORIZED");
        Assert.False(string.IsNullOrEmpty((string?)error["message"]), why);
    }

    [Fact]
    public async Task ExpiredTokenSaysItExpired()
    {
        var token = TokenForgery.Create(RaworcAppFixture.JwtSigningKey, issuedAt: DateTime.UtcNow.AddHours(-3), expires: DateTime.UtcNow.AddHours(-1));
        using var client = fixture.CreateApiClient(token);
        var error = await (await client.GetAsync("/api/v0/auth")).AssertErrorAsync(401, "UNAUTHORIZED");
        Assert.Equal("The token has expired.", (string?)error["message"]);
    }
}
