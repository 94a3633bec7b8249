using System.Net;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Sessions;

/// <summary>
/// Live sessions per owner (3 here) and computers per deployment (5 here): past either, create, restore (by request,
/// by message or by <c>PUT /state</c>) and remix answer 409 <c>CONFLICT</c> and store nothing, also under concurrency.
/// </summary>
[Collection(QuotaAppCollection.Name)]
public sealed class SessionQuotaTests(QuotaAppFixture fixture) : IAsyncLifetime
{
    private const string Sessions = "/api/v0/sessions";

    private static string OwnerLimit(string owner) =>
        $"'{owner}' already has {QuotaAppFixture.MaxPerOperator} live sessions, the most allowed (Sessions:MaxPerOperator = {QuotaAppFixture.MaxPerOperator}); close or delete one first.";

    private const string CapacityLimit = "The deployment runs its capacity of 5 computers (Computers:Capacity); try again when a session closes.";

    // The capacity counts every live session of the deployment, so each test starts from none.
    public async Task InitializeAsync()
    {
        using var admin = await fixture.AdminClientAsync();
        foreach (var session in await (await admin.GetAsync($"{Sessions}?limit=1000")).ReadArrayAsync())
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{Sessions}/{session!["id"]}")).StatusCode);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<long> RowsAsync(string sql, string owner) => (await fixture.QueryAsync<long>(sql, ("owner", owner))).Single();

    private Task<long> SessionRowsAsync(string owner) => RowsAsync("SELECT count(*) FROM sessions WHERE created_by = @owner", owner);

    private Task<long> MessageRowsAsync(string owner) => RowsAsync(
        "SELECT count(*) FROM messages m JOIN sessions s ON s.id = m.session_id WHERE s.created_by = @owner", owner);

    private Task<long> WorkRowsAsync(string owner) => RowsAsync(
        "SELECT count(*) FROM work_items w JOIN sessions s ON s.id = w.session_id WHERE s.created_by = @owner", owner);

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string message)
    {
        var error = await response.AssertErrorAsync(409, "CONFLICT");
        Assert.Equal(message, (string?)error["message"]);
        Assert.Null(error["details"]);
    }

    [Fact]
    public async Task AtTheOwnerLimitCreateRestoreAutoRestoreAndRemixAreRefusedAndNothingIsStored()
    {
        var (owner, client) = await fixture.CreateOperatorAsync("quota");
        using var _ = client;
        var first = await client.CreateSessionAsync();
        await client.CreateSessionAsync();
        var closed = await client.CreateSessionAsync();
        await client.PostOkAsync($"{Sessions}/{closed.Id()}/close");
        await client.CreateSessionAsync();
        var (sessions, messages, work) = (await SessionRowsAsync(owner), await MessageRowsAsync(owner), await WorkRowsAsync(owner));
        Assert.Equal((4, 0, 5), (sessions, messages, work));

        await AssertRefusedAsync(await client.PostAsync(Sessions, Http.Json(new { prompt = "one more" })), OwnerLimit(owner));
        await AssertRefusedAsync(await client.PostAsync($"{Sessions}/{closed.Id()}/restore", Http.Json(new { prompt = "back" })), OwnerLimit(owner));
        await AssertRefusedAsync(await client.PostAsync($"{Sessions}/{closed.Id()}/messages", Http.Json(new { content = "wake up" })), OwnerLimit(owner));
        await AssertRefusedAsync(await client.PutAsync($"{Sessions}/{closed.Id()}/state", Http.Json(new { state = "init" })), OwnerLimit(owner));
        await AssertRefusedAsync(await client.PostAsync($"{Sessions}/{first.Id()}/remix", Http.Json(new { prompt = "copy" })), OwnerLimit(owner));

        Assert.Equal((sessions, messages, work), (await SessionRowsAsync(owner), await MessageRowsAsync(owner), await WorkRowsAsync(owner)));
        Assert.Equal("closed", (string?)(await client.GetSessionAsync(closed.Id().ToString()))["state"]);

        // Closing one makes room: the limit counts live sessions only.
        await client.PostOkAsync($"{Sessions}/{first.Id()}/close");
        Assert.Equal("init", (string?)(await client.PostOkAsync($"{Sessions}/{closed.Id()}/restore"))["state"]);
    }

    [Fact]
    public async Task OwnerLimitCountsEachOwnerApart()
    {
        var (_, first) = await fixture.CreateOperatorAsync("quota-a");
        var (_, second) = await fixture.CreateOperatorAsync("quota-b");
        using var a = first;
        using var b = second;
        for (var i = 0; i < QuotaAppFixture.MaxPerOperator; i++)
        {
            await first.CreateSessionAsync();
        }
        await second.CreateSessionAsync();
    }

    [Fact]
    public async Task TenConcurrentCreatesWithRoomForThreeMakeExactlyThree()
    {
        var (owner, client) = await fixture.CreateOperatorAsync("quota-race");
        using var _ = client;
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => client.PostAsync(Sessions, Http.Json(new { prompt = $"race {i}" }))));

        Assert.Equal(3, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            await AssertRefusedAsync(refused, OwnerLimit(owner));
        }
        Assert.Equal((3, 3, 3), (await SessionRowsAsync(owner), await MessageRowsAsync(owner), await WorkRowsAsync(owner)));
    }

    [Fact]
    public async Task ConcurrentRestoresWithRoomForOneRestoreExactlyOne()
    {
        var (owner, client) = await fixture.CreateOperatorAsync("quota-restore");
        using var _ = client;
        var closed = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            var id = (await client.CreateSessionAsync()).Id();
            if (i < 2)
            {
                await client.PostOkAsync($"{Sessions}/{id}/close");
                closed.Add(id);
            }
        }
        var responses = await Task.WhenAll(closed.Select(id => client.PostAsync($"{Sessions}/{id}/restore", Http.Json(new { prompt = "back" }))));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        await AssertRefusedAsync(responses.Single(r => r.StatusCode != HttpStatusCode.OK), OwnerLimit(owner));
        Assert.Equal(3, (await fixture.QueryAsync<long>(
            "SELECT count(*) FROM sessions WHERE created_by = @owner AND state IN ('init', 'idle', 'busy')", ("owner", owner))).Single());
        Assert.Equal(1, await MessageRowsAsync(owner));
    }

    [Fact]
    public async Task AtCapacityCreateRestoreAndRemixAreRefusedForEveryoneAndNothingIsStored()
    {
        var (_, first) = await fixture.CreateOperatorAsync("cap-a");
        var (owner, second) = await fixture.CreateOperatorAsync("cap-b");
        using var a = first;
        using var b = second;
        for (var i = 0; i < 3; i++)
        {
            await first.CreateSessionAsync();
        }
        var closed = await second.CreateSessionAsync();
        await second.PostOkAsync($"{Sessions}/{closed.Id()}/close");
        var live = await second.CreateSessionAsync();
        await second.CreateSessionAsync();
        var before = (await SessionRowsAsync(owner), await MessageRowsAsync(owner), await WorkRowsAsync(owner));
        Assert.Equal((3, 0, 4), before);

        // The second owner has 2 live sessions, under its own limit of 3: the deployment's 5 are what refuse it.
        await AssertRefusedAsync(await second.PostAsync(Sessions, Http.Json(new { prompt = "one more" })), CapacityLimit);
        await AssertRefusedAsync(await second.PostAsync($"{Sessions}/{closed.Id()}/restore", Http.Json(new { prompt = "back" })), CapacityLimit);
        await AssertRefusedAsync(await second.PostAsync($"{Sessions}/{closed.Id()}/messages", Http.Json(new { content = "wake up" })), CapacityLimit);
        await AssertRefusedAsync(await second.PostAsync($"{Sessions}/{live.Id()}/remix", Http.Json(new { })), CapacityLimit);

        Assert.Equal(before, (await SessionRowsAsync(owner), await MessageRowsAsync(owner), await WorkRowsAsync(owner)));
    }

    [Fact]
    public async Task TenConcurrentCreatesWithCapacityForTwoMakeExactlyTwo()
    {
        var (_, first) = await fixture.CreateOperatorAsync("cap-race-a");
        var (owner, second) = await fixture.CreateOperatorAsync("cap-race-b");
        using var a = first;
        using var b = second;
        for (var i = 0; i < 3; i++)
        {
            await first.CreateSessionAsync();
        }
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => second.PostAsync(Sessions, Http.Json(new { }))));

        Assert.Equal(2, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            await AssertRefusedAsync(refused, CapacityLimit);
        }
        Assert.Equal((2, 2), (await SessionRowsAsync(owner), await WorkRowsAsync(owner)));
    }
}
