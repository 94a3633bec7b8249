using System.Net;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Sessions;

[Collection(RaworcAppCollection.Name)]
public sealed class PublishedSessionsTests(RaworcAppFixture fixture)
{
    [Fact]
    public async Task AnonymousClientsSeePublishedSessionsWithoutComputerIds()
    {
        var (owner, ownerClient) = await fixture.CreateOperatorAsync("publisher");
        using var client = ownerClient;
        var name = SessionTestExtensions.UniqueName("shared");
        var session = await client.CreateSessionAsync(new { name, metadata = new { topic = "demo" } });
        var published = await client.PostOkAsync($"/api/v0/sessions/{session.Id()}/publish", new { data = true, code = false });
        Assert.True((bool)published["is_published"]!);
        Assert.Equal(owner, (string?)published["published_by"]);
        Assert.Equal("""{"data":true,"code":false,"secrets":false}""", published["publish_permissions"]!.ToJsonString());

        using var anonymous = fixture.CreateApiClient();
        var list = await anonymous.GetAsync("/api/v0/published/sessions");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var first = (await list.ReadArrayAsync())[0]!.AsObject();
        Assert.Equal(session.Id(), Guid.Parse((string)first["id"]!));
        Assert.Equal(
            ["created_at", "created_by", "id", "metadata", "name", "publish_permissions", "published_at", "published_by", "state"],
            first.Select(p => p.Key).Order().ToArray());

        var byName = await (await anonymous.GetAsync($"/api/v0/published/sessions/{name}")).ReadObjectAsync();
        Assert.Equal("demo", (string?)byName["metadata"]!["topic"]);
        Assert.Equal("init", (string?)byName["state"]);
    }

    [Fact]
    public async Task UnpublishedSessionsAreNotInThePublishedList()
    {
        var (_, ownerClient) = await fixture.CreateOperatorAsync("retract");
        using var client = ownerClient;
        var session = await client.CreateSessionAsync();
        await client.PostOkAsync($"/api/v0/sessions/{session.Id()}/publish");
        var unpublished = await client.PostOkAsync($"/api/v0/sessions/{session.Id()}/unpublish");
        Assert.False((bool)unpublished["is_published"]!);

        using var anonymous = fixture.CreateApiClient();
        await (await anonymous.GetAsync($"/api/v0/published/sessions/{session.Id()}")).AssertErrorAsync(404, "NOT_FOUND");
    }

    [Fact]
    public async Task OthersReadAndRemixAPublishedSessionWithinItsPermissions()
    {
        var (_, ownerClient) = await fixture.CreateOperatorAsync("sharer");
        var (other, otherClient) = await fixture.CreateOperatorAsync("remixer");
        using var owner = ownerClient;
        using var remixer = otherClient;
        var session = await owner.CreateSessionAsync(new { prompt = "hello", secrets = new { KEY = "value-1" }, timeout_seconds = 77 });
        await owner.PostOkAsync($"/api/v0/sessions/{session.Id()}/publish", new { data = true, code = true, secrets = false });

        Assert.Equal(HttpStatusCode.OK, (await remixer.GetAsync($"/api/v0/sessions/{session.Id()}")).StatusCode);
        Assert.Single(await remixer.GetMessagesAsync(session.Id().ToString()));
        await (await remixer.PostAsync($"/api/v0/sessions/{session.Id()}/remix", Http.Json(new { secrets = true }))).AssertErrorAsync(403, "FORBIDDEN");
        await (await remixer.PostAsync($"/api/v0/sessions/{session.Id()}/close", Http.Json(new { }))).AssertErrorAsync(403, "FORBIDDEN");
        await (await remixer.PostAsync($"/api/v0/sessions/{session.Id()}/messages", Http.Json(new { content = "x" }))).AssertErrorAsync(403, "FORBIDDEN");

        var response = await remixer.PostAsync($"/api/v0/sessions/{session.Id()}/remix", Http.Json(new { data = true }));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var child = await response.ReadObjectAsync();
        Assert.Equal(other, (string?)child["created_by"]);
        Assert.Equal(session.Id().ToString(), (string?)child["parent_session_id"]);
        Assert.Equal(77, (int)child["timeout_seconds"]!);
        Assert.Equal("init", (string?)child["state"]);
        Assert.Equal($"/api/v0/sessions/{child["id"]}", response.Headers.Location?.ToString());
        var payload = Assert.Single(await fixture.QueryAsync<string>("SELECT payload::text FROM work_items WHERE session_id = @id AND kind = 'remix'", ("id", child.Id())));
        Assert.Contains("\"Data\": true", payload);
        Assert.Contains("\"Code\": true", payload);
        Assert.Contains("\"Secrets\": false", payload);
        Assert.Contains($"\"ParentSessionId\": \"{session.Id()}\"", payload);
    }

    [Fact]
    public async Task OwnRemixCopiesEverythingByDefault()
    {
        var (_, ownerClient) = await fixture.CreateOperatorAsync("selfremix");
        using var owner = ownerClient;
        var session = await owner.CreateSessionAsync();
        var child = await owner.PostOkAsync($"/api/v0/sessions/{session.Id()}/remix", new { code = false });
        var payload = Assert.Single(await fixture.QueryAsync<string>("SELECT payload::text FROM work_items WHERE session_id = @id", ("id", child.Id())));
        Assert.Contains("\"Data\": true", payload);
        Assert.Contains("\"Code\": false", payload);
        Assert.Contains("\"Secrets\": true", payload);
    }
}
