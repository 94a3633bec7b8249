using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Auth;

[Collection(RaworcAppCollection.Name)]
public sealed class PoolTokenTests(RaworcAppFixture fixture)
{
    [Fact]
    public async Task APoolTokenOpensOnlyTheClaimRouteAndNoOtherTokenClaimsThere()
    {
        using var admin = await fixture.AdminClientAsync();
        var session = (await admin.CreateSessionAsync()).Id();
        // A pool token naming an existing session still grants nothing of it.
        using var pooled = fixture.CreateApiClient(TokenForgery.Create(RaworcAppFixture.JwtSigningKey, subject: $"pool-{session}", type: "Pool",
            extra: new Dictionary<string, object> { ["pool_id"] = session.ToString() }));
        await (await pooled.GetAsync("/api/v0/sessions")).AssertErrorAsync(401, "UNAUTHORIZED");
        await (await pooled.GetAsync($"/api/v0/sessions/{session}")).AssertErrorAsync(401, "UNAUTHORIZED");
        await (await pooled.GetAsync($"/api/v0/sessions/{session}/messages")).AssertErrorAsync(401, "UNAUTHORIZED");
        await (await pooled.PostAsync($"/api/v0/sessions/{session}/idle", null)).AssertErrorAsync(401, "UNAUTHORIZED");
        await (await pooled.PostAsync("/api/v0/sessions", Http.Json(new { }))).AssertErrorAsync(401, "UNAUTHORIZED");

        // The claim route answers a pool token of a computer that is not pooled with 404, and every other caller likewise.
        using var stranger = fixture.CreateApiClient(TokenForgery.Create(RaworcAppFixture.JwtSigningKey, subject: "pool-x", type: "Pool",
            extra: new Dictionary<string, object> { ["pool_id"] = Guid.NewGuid().ToString() }));
        await (await stranger.GetAsync("/api/v0/pool/claim?wait=0")).AssertErrorAsync(404, "NOT_FOUND");
        using var host = fixture.CreateHostClient(session);
        await (await host.GetAsync("/api/v0/pool/claim?wait=0")).AssertErrorAsync(404, "NOT_FOUND");
        await (await admin.GetAsync("/api/v0/pool/claim?wait=0")).AssertErrorAsync(404, "NOT_FOUND");
        using var anonymous = fixture.CreateApiClient();
        await (await anonymous.GetAsync("/api/v0/pool/claim?wait=0")).AssertErrorAsync(401, "UNAUTHORIZED");
    }

    [Fact]
    public async Task TheBootExchangeDoesNotExistOnTheApisOwnPort()
    {
        // Only a computer exchanges a boot ticket (over its socket); on the API's HTTP port the route is the same 404 as an
        // unknown one, whatever the body.
        using var admin = await fixture.AdminClientAsync();
        var session = (await admin.CreateSessionAsync()).Id();
        using var anonymous = fixture.CreateApiClient();

        await (await anonymous.PostAsync("/api/v0/boot", Http.Json(new { session_id = session.ToString(), ticket = "a-guess", seed = true })))
            .AssertErrorAsync(404, "NOT_FOUND");
        await (await admin.PostAsync("/api/v0/boot", Http.Json(new { session_id = session.ToString(), ticket = "a-guess", seed = true })))
            .AssertErrorAsync(404, "NOT_FOUND");
    }
}
