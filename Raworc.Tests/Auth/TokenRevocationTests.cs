using System.Net;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Auth;

/// <summary>A password change and a revoke refuse every token of the operator issued before them, and only those.</summary>
[Collection(RaworcAppCollection.Name)]
public sealed class TokenRevocationTests(RaworcAppFixture fixture)
{
    private async Task<HttpClient> MintedClientAsync(HttpClient admin, string name)
    {
        var response = await admin.PostAsync("/api/v0/auth/token", Http.Json(new { principal = name, type = "Operator", ttl_seconds = 31_536_000 }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return fixture.CreateApiClient((string)(await response.ReadObjectAsync())["token"]!);
    }

    private static async Task AssertWorksAsync(HttpClient client) =>
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v0/auth")).StatusCode);

    private static async Task AssertRevokedAsync(HttpClient client)
    {
        var error = await (await client.GetAsync("/api/v0/auth")).AssertErrorAsync(401, "UNAUTHORIZED");
        Assert.Equal("The token is not valid.", (string?)error["message"]);
    }

    [Fact]
    public async Task OwnPasswordChangeRevokesEveryEarlierTokenAndALoginRightAfterWorks()
    {
        var (name, loggedIn) = await fixture.CreateOperatorAsync("revoke-own");
        using var admin = await fixture.AdminClientAsync();
        using var minted = await MintedClientAsync(admin, name);
        using (loggedIn)
        {
            await AssertWorksAsync(loggedIn);
            await AssertWorksAsync(minted);

            // Most likely in the same second as the tokens above and the login below: JWT times could not tell them apart.
            Assert.Equal(HttpStatusCode.OK, (await loggedIn.PutAsync($"/api/v0/operators/{name}/password",
                Http.Json(new { current_password = "operator-pass-1", new_password = "next-pass-1" }))).StatusCode);
            using var fresh = fixture.CreateApiClient(await fixture.LoginAsync(name, "next-pass-1"));

            await AssertRevokedAsync(loggedIn);
            await AssertRevokedAsync(minted);
            await AssertWorksAsync(fresh);
            await AssertWorksAsync(admin);
        }
    }

    [Fact]
    public async Task AdminPasswordResetRevokesTheOperatorsTokensOnly()
    {
        var (name, loggedIn) = await fixture.CreateOperatorAsync("revoke-reset");
        var (_, bystander) = await fixture.CreateOperatorAsync("revoke-bystander");
        using var admin = await fixture.AdminClientAsync();
        using (loggedIn)
        using (bystander)
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync($"/api/v0/operators/{name}/password",
                Http.Json(new { new_password = "reset-pass-1" }))).StatusCode);

            await AssertRevokedAsync(loggedIn);
            await AssertWorksAsync(bystander);
            await AssertWorksAsync(admin);
            using var fresh = fixture.CreateApiClient(await fixture.LoginAsync(name, "reset-pass-1"));
            await AssertWorksAsync(fresh);
        }
    }

    [Fact]
    public async Task AnOperatorLogsItselfOutEverywhere()
    {
        var (name, loggedIn) = await fixture.CreateOperatorAsync("revoke-self");
        using var admin = await fixture.AdminClientAsync();
        using var minted = await MintedClientAsync(admin, name);
        using (loggedIn)
        {
            var response = await loggedIn.PostAsync($"/api/v0/operators/{name}/revoke", null);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            Assert.Equal("", await response.Content.ReadAsStringAsync());

            await AssertRevokedAsync(loggedIn);
            await AssertRevokedAsync(minted);
            // The password is unchanged, and a token issued after the revoke works.
            using var fresh = fixture.CreateApiClient(await fixture.LoginAsync(name, "operator-pass-1"));
            await AssertWorksAsync(fresh);
            using var mintedAfter = await MintedClientAsync(admin, name);
            await AssertWorksAsync(mintedAfter);
        }
    }

    [Fact]
    public async Task AnAdminLogsAnotherOperatorOutButAnOperatorCannotRevokeOthers()
    {
        var (name, target) = await fixture.CreateOperatorAsync("revoke-target");
        var (other, outsider) = await fixture.CreateOperatorAsync("revoke-outsider");
        using var admin = await fixture.AdminClientAsync();
        using (target)
        using (outsider)
        {
            var forbidden = await (await outsider.PostAsync($"/api/v0/operators/{name}/revoke", null)).AssertErrorAsync(403, "FORBIDDEN");
            Assert.Equal("Only admins can revoke other operators' tokens.", (string?)forbidden["message"]);
            await AssertWorksAsync(target);

            Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/api/v0/operators/{name}/revoke", null)).StatusCode);
            await AssertRevokedAsync(target);
            await AssertWorksAsync(outsider);
            await AssertWorksAsync(admin);

            var missing = await (await admin.PostAsync($"/api/v0/operators/{other}-missing/revoke", null)).AssertErrorAsync(404, "NOT_FOUND");
            Assert.Equal($"No operator named '{other}-missing'.", (string?)missing["message"]);
        }
    }
}
