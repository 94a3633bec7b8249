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
