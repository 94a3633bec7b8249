using System.Net;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Auth;

/// <summary>
/// The operator check behind every request is cached (Auth/PrincipalCache.cs); a change of the operator must still take
/// effect on the very next request, however often its token was just accepted.
/// </summary>
[Collection(RaworcAppCollection.Name)]
public sealed class PrincipalCacheTests(RaworcAppFixture fixture)
{
    private static async Task WarmAsync(HttpClient client, string path)
    {
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path)).StatusCode);
        }
    }

    [Fact]
    public async Task ACachedTokenIsRefusedOnTheVeryNextRequestAfterItsOperatorIsDeactivatedRevokedOrDemoted()
    {
        using var admin = await fixture.AdminClientAsync();
        var (deactivated, deactivatedClient) = await fixture.CreateOperatorAsync("cache-deactivated");
        var (revoked, revokedClient) = await fixture.CreateOperatorAsync("cache-revoked");
        var (demoted, demotedClient) = await fixture.CreateOperatorAsync("cache-demoted", admin: true);
        using (deactivatedClient)
        using (revokedClient)
        using (demotedClient)
        {
            await WarmAsync(deactivatedClient, "/api/v0/auth");
            await WarmAsync(revokedClient, "/api/v0/auth");
            await WarmAsync(demotedClient, "/api/v0/operators?limit=1");

            Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync($"/api/v0/operators/{deactivated}", Http.Json(new { active = false }))).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/api/v0/operators/{revoked}/revoke", null)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync($"/api/v0/operators/{demoted}", Http.Json(new { admin = false }))).StatusCode);

            await (await deactivatedClient.GetAsync("/api/v0/auth")).AssertErrorAsync(401, "UNAUTHORIZED");
            await (await revokedClient.GetAsync("/api/v0/auth")).AssertErrorAsync(401, "UNAUTHORIZED");
            await (await demotedClient.GetAsync("/api/v0/operators?limit=1")).AssertErrorAsync(403, "FORBIDDEN");
            var self = await (await demotedClient.GetAsync("/api/v0/auth")).ReadObjectAsync();
            Assert.Equal("user", (string?)self["role"]);
        }
    }

    [Fact]
    public async Task ACachedTokenIsRefusedOnTheVeryNextRequestAfterItsOperatorIsDeleted()
    {
        using var admin = await fixture.AdminClientAsync();
        var (name, client) = await fixture.CreateOperatorAsync("cache-deleted");
        using (client)
        {
            await WarmAsync(client, "/api/v0/auth");
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v0/operators/{name}")).StatusCode);
            await (await client.GetAsync("/api/v0/auth")).AssertErrorAsync(401, "UNAUTHORIZED");
        }
    }
}
