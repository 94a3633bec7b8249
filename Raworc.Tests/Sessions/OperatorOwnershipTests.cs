using System.Net;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Sessions;

/// <summary>
/// Sessions belong to an operator's row, not its name: deleting an operator deletes its sessions (refused while any is
/// live, unless asked to close them), and an operator created later under the same name gets none of them.
/// </summary>
[Collection(RaworcAppCollection.Name)]
public sealed class OperatorOwnershipTests(RaworcAppFixture fixture)
{
    private async Task<List<string>> WorkAsync(Guid sessionId) =>
        await fixture.QueryAsync<string>("SELECT kind FROM work_items WHERE session_id = @id ORDER BY id", ("id", sessionId));

    private async Task<HttpClient> RecreateAsync(HttpClient admin, string name)
    {
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsync("/api/v0/operators", Http.Json(new { user = name, pass = "newcomer-pass-1" }))).StatusCode);
        return fixture.CreateApiClient(await fixture.LoginAsync(name, "newcomer-pass-1"));
    }

    [Fact]
    public async Task AnOperatorCreatedUnderADeletedOnesNameGetsNoneOfItsSessions()
    {
        var (name, owner) = await fixture.CreateOperatorAsync("heir");
        using var admin = await fixture.AdminClientAsync();
        Guid id;
        using (owner)
        {
            var session = await owner.CreateSessionAsync(new { secrets = new { API_KEY = "secret-value" } });
            Assert.Equal(name, (string?)session["created_by"]);
            id = session.Id();
            Assert.Equal("closed", (string?)(await owner.PostOkAsync($"/api/v0/sessions/{id}/close"))["state"]);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v0/operators/{name}")).StatusCode);
        using var newcomer = await RecreateAsync(admin, name);

        await (await newcomer.GetAsync($"/api/v0/sessions/{id}")).AssertErrorAsync(404, "NOT_FOUND");
        await (await newcomer.PostAsync($"/api/v0/sessions/{id}/restore", Http.Json(new { }))).AssertErrorAsync(404, "NOT_FOUND");
        await (await newcomer.PostAsync($"/api/v0/sessions/{id}/remix", Http.Json(new { secrets = true }))).AssertErrorAsync(404, "NOT_FOUND");
        Assert.Empty(await (await newcomer.GetAsync("/api/v0/sessions")).ReadArrayAsync());
        // Deleted with its operator, not merely hidden: gone for admins too, its volume removed by the delete work.
        await (await admin.GetAsync($"/api/v0/sessions/{id}")).AssertErrorAsync(404, "NOT_FOUND");
        Assert.Equal(["delete"], await WorkAsync(id));
    }

    [Fact]
    public async Task DeletingAnOperatorWithLiveSessionsIsRefusedUnlessAskedToCloseThem()
    {
        var (name, owner) = await fixture.CreateOperatorAsync("live-owner");
        using var admin = await fixture.AdminClientAsync();
        using (owner)
        {
            var live = await owner.CreateSessionAsync(new { prompt = "hello" });
            var closed = await owner.CreateSessionAsync();
            await owner.PostOkAsync($"/api/v0/sessions/{closed.Id()}/close");

            var error = await (await admin.DeleteAsync($"/api/v0/operators/{name}")).AssertErrorAsync(409, "CONFLICT");
            Assert.Equal($"'{name}' owns 1 live session(s); close them first, or delete with close_sessions=true to close them " +
                "and delete them with the operator.", (string?)error["message"]);
            // Nothing changed.
            Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync("/api/v0/auth")).StatusCode);
            Assert.Equal("init", (string?)(await owner.GetSessionAsync(live.Id().ToString()))["state"]);

            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v0/operators/{name}?close_sessions=true")).StatusCode);
            await (await owner.GetAsync("/api/v0/auth")).AssertErrorAsync(401, "UNAUTHORIZED");
            foreach (var id in new[] { live.Id(), closed.Id() })
            {
                await (await admin.GetAsync($"/api/v0/sessions/{id}")).AssertErrorAsync(404, "NOT_FOUND");
                Assert.Equal(["delete"], await WorkAsync(id));
            }
            Assert.Equal([0L], await fixture.QueryAsync<long>("SELECT count(*) FROM messages WHERE session_id = @id", ("id", live.Id())));

            using var newcomer = await RecreateAsync(admin, name);
            await (await newcomer.GetAsync($"/api/v0/sessions/{live.Id()}")).AssertErrorAsync(404, "NOT_FOUND");
        }
    }

    [Fact]
    public async Task AUserNamedLikeAnOperatorOwnsNoneOfItsSessions()
    {
        var (name, owner) = await fixture.CreateOperatorAsync("namesake");
        using (owner)
        {
            var session = await owner.CreateSessionAsync();
            using var user = fixture.CreateApiClient(Raworc.Tests.Auth.TokenForgery.Create(RaworcAppFixture.JwtSigningKey, subject: name, type: "User"));
            await (await user.GetAsync($"/api/v0/sessions/{session.Id()}")).AssertErrorAsync(404, "NOT_FOUND");
            Assert.Empty(await (await user.GetAsync("/api/v0/sessions")).ReadArrayAsync());
            Assert.Single(await (await owner.GetAsync("/api/v0/sessions")).ReadArrayAsync());
        }
    }
}
