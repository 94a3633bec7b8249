using System.Net;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Sessions;

[Collection(RaworcAppCollection.Name)]
public sealed class SessionAccessTests(RaworcAppFixture fixture)
{
    [Fact]
    public async Task SomeoneElsesUnpublishedSessionIsNotFoundForEveryAction()
    {
        var (_, ownerClient) = await fixture.CreateOperatorAsync("private-owner");
        var (_, strangerClient) = await fixture.CreateOperatorAsync("stranger");
        using var owner = ownerClient;
        using var stranger = strangerClient;
        var name = SessionTestExtensions.UniqueName("private");
        var session = await owner.CreateSessionAsync(new { name, prompt = "mine" });
        var id = session.Id();

        var attempts = new Func<Task<HttpResponseMessage>>[]
        {
            () => stranger.GetAsync($"/api/v0/sessions/{id}"),
            () => stranger.GetAsync($"/api/v0/sessions/{name}"),
            () => stranger.PostAsync($"/api/v0/sessions/{id}/close", Http.Json(new { })),
            () => stranger.PostAsync($"/api/v0/sessions/{id}/publish", Http.Json(new { })),
            () => stranger.DeleteAsync($"/api/v0/sessions/{id}"),
            () => stranger.PutAsync($"/api/v0/sessions/{id}", Http.Json(new { timeout_seconds = 10 })),
            () => stranger.PostAsync($"/api/v0/sessions/{id}/messages", Http.Json(new { content = "hi" })),
            () => stranger.GetAsync($"/api/v0/sessions/{id}/messages"),
            () => stranger.GetAsync($"/api/v0/sessions/{id}/messages/count"),
            () => stranger.PostAsync($"/api/v0/sessions/{id}/remix", Http.Json(new { })),
            () => stranger.PostAsync($"/api/v0/sessions/{id}/busy", Http.Json(new { })),
        };
        foreach (var attempt in attempts)
        {
            await (await attempt()).AssertErrorAsync(404, "NOT_FOUND");
        }

        var unchanged = await owner.GetSessionAsync(id.ToString());
        Assert.Equal("init", (string?)unchanged["state"]);
        Assert.False((bool)unchanged["is_published"]!);
        Assert.Single(await owner.GetMessagesAsync(id.ToString()));
    }

    [Fact]
    public async Task OnlyTheOwnerOrAnAdminStoresAMessageInEveryStateAPostWritesWithoutARead()
    {
        // A user's post by id is written with no read of the session before it: the owner is in the write's condition. In each
        // state that write takes (init and busy: the one-statement append; idle: the turn's start), a stranger, a user named
        // like the owning operator, and the operator named like a user who owns a session are answered as the session's read
        // answers them, storing nothing and changing no state.
        var (name, ownerClient) = await fixture.CreateOperatorAsync("poster");
        var (userName, namedLikeUserClient) = await fixture.CreateOperatorAsync("poster-user");
        var (_, strangerClient) = await fixture.CreateOperatorAsync("poster-stranger");
        using var owner = ownerClient;
        using var namedLikeUser = namedLikeUserClient;
        using var stranger = strangerClient;
        using var namesake = fixture.CreateApiClient(Auth.TokenForgery.Create(RaworcAppFixture.JwtSigningKey, subject: name, type: "User"));
        using var user = fixture.CreateApiClient(Auth.TokenForgery.Create(RaworcAppFixture.JwtSigningKey, subject: userName, type: "User"));
        using var admin = await fixture.AdminClientAsync();
        var id = (await owner.CreateSessionAsync()).Id();
        var usersId = (await user.CreateSessionAsync()).Id();
        using var host = fixture.CreateHostClient(id);
        using var usersHost = fixture.CreateHostClient(usersId);

        async Task RefusedAsync(Guid session, string state, params HttpClient[] callers)
        {
            foreach (var caller in callers)
            {
                await (await caller.PostAsync($"/api/v0/sessions/{session}/messages", Http.Json(new { content = "not mine" }))).AssertErrorAsync(404, "NOT_FOUND");
            }
            Assert.Equal(state, (string?)(await admin.GetSessionAsync(session.ToString()))["state"]);
        }
        async Task<string> PostAsync(HttpClient caller, Guid session, string content) =>
            (string)(await caller.PostOkAsync($"/api/v0/sessions/{session}/messages", new { content }))["content"]!;

        await RefusedAsync(id, "init", stranger, namesake);
        Assert.Equal("owner in init", await PostAsync(owner, id, "owner in init"));
        Assert.Equal("admin in init", await PostAsync(admin, id, "admin in init"));
        // Ready with unanswered messages: busy.
        await host.PostOkAsync($"/api/v0/sessions/{id}/idle");
        await RefusedAsync(id, "busy", stranger, namesake);
        Assert.Equal("owner in busy", await PostAsync(owner, id, "owner in busy"));
        await host.PostOkAsync($"/api/v0/sessions/{id}/idle");
        await RefusedAsync(id, "idle", stranger, namesake);
        Assert.Equal("owner in idle", await PostAsync(owner, id, "owner in idle"));
        Assert.Equal("busy", (string?)(await owner.GetSessionAsync(id.ToString()))["state"]);
        await host.PostOkAsync($"/api/v0/sessions/{id}/idle");
        Assert.Equal("admin in idle", await PostAsync(admin, id, "admin in idle"));
        Assert.Equal("busy", (string?)(await owner.GetSessionAsync(id.ToString()))["state"]);

        await usersHost.PostOkAsync($"/api/v0/sessions/{usersId}/idle");
        await RefusedAsync(usersId, "idle", namedLikeUser, stranger);
        Assert.Equal("user in idle", await PostAsync(user, usersId, "user in idle"));
        await RefusedAsync(usersId, "busy", namedLikeUser, stranger);
        Assert.Equal("user in busy", await PostAsync(user, usersId, "user in busy"));

        Assert.Equal(["owner in init", "admin in init", "owner in busy", "owner in idle", "admin in idle"],
            (await owner.GetMessagesAsync(id.ToString())).Select(m => (string)m!["content"]!));
        Assert.Equal(["user in idle", "user in busy"], (await user.GetMessagesAsync(usersId.ToString())).Select(m => (string)m!["content"]!));
    }

    [Fact]
    public async Task AdminReachesEverySession()
    {
        var (_, ownerClient) = await fixture.CreateOperatorAsync("watched");
        using var owner = ownerClient;
        var session = await owner.CreateSessionAsync();
        using var admin = await fixture.AdminClientAsync();

        Assert.Equal(session.Id(), (await admin.GetSessionAsync(session.Id().ToString())).Id());
        Assert.Equal("closed", (string?)(await admin.PostOkAsync($"/api/v0/sessions/{session.Id()}/close"))["state"]);
    }

    [Fact]
    public async Task AHostTokenReachesOnlyItsOwnSession()
    {
        var (_, ownerClient) = await fixture.CreateOperatorAsync("hosted");
        using var owner = ownerClient;
        var mine = await owner.CreateSessionAsync();
        var other = await owner.CreateSessionAsync();
        using var host = fixture.CreateHostClient(mine.Id());

        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync($"/api/v0/sessions/{mine.Id()}")).StatusCode);
        await (await host.GetAsync($"/api/v0/sessions/{other.Id()}")).AssertErrorAsync(404, "NOT_FOUND");
        await (await host.PostAsync($"/api/v0/sessions/{other.Id()}/messages", Http.Json(new { content = "x" }))).AssertErrorAsync(404, "NOT_FOUND");
        await (await host.GetAsync("/api/v0/sessions")).AssertErrorAsync(403, "FORBIDDEN");
        await (await host.PostAsync("/api/v0/sessions", Http.Json(new { }))).AssertErrorAsync(403, "FORBIDDEN");
        await (await host.PostAsync($"/api/v0/sessions/{mine.Id()}/close", Http.Json(new { }))).AssertErrorAsync(404, "NOT_FOUND");
        await (await host.DeleteAsync($"/api/v0/sessions/{mine.Id()}")).AssertErrorAsync(404, "NOT_FOUND");
        await (await host.GetAsync("/api/v0/operators")).AssertErrorAsync(403, "FORBIDDEN");
    }

    [Fact]
    public async Task AHostTokenOfADeletedSessionStopsWorking()
    {
        var (_, ownerClient) = await fixture.CreateOperatorAsync("ephemeral");
        using var owner = ownerClient;
        var session = await owner.CreateSessionAsync();
        using var host = fixture.CreateHostClient(session.Id());
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync($"/api/v0/sessions/{session.Id()}")).StatusCode);

        await owner.DeleteAsync($"/api/v0/sessions/{session.Id()}");
        await (await host.GetAsync($"/api/v0/sessions/{session.Id()}")).AssertErrorAsync(401, "UNAUTHORIZED");
    }
}
