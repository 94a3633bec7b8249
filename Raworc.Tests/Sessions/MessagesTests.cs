using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using Raworc.ApiService.Messages;
using Raworc.HostAgent.Api;
using Raworc.HostAgent.Tools;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Sessions;

[Collection(RaworcAppCollection.Name)]
public sealed class MessagesTests(RaworcAppFixture fixture)
{
    [Fact]
    public async Task HostMessagesHaveTheHostRoleAndUserMessagesTheUserRole()
    {
        var (_, client) = await fixture.CreateOperatorAsync("talker");
        using var _ = client;
        var session = await client.CreateSessionAsync(new { prompt = "question" });
        using var host = fixture.CreateHostClient(session.Id());

        var answer = await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/messages", new { content = "answer", metadata = new { type = "response" } });
        Assert.Equal("host", (string?)answer["role"]);

        var messages = await client.GetMessagesAsync(session.Id().ToString());
        Assert.Equal(["user:question", "host:answer"], messages.Select(m => $"{m!["role"]}:{m["content"]}").ToArray());
        Assert.Equal("response", (string?)messages[1]!["metadata"]!["type"]);
        Assert.Equal(
            ["content", "created_at", "id", "metadata", "role", "session_id"],
            messages[0]!.AsObject().Select(p => p.Key).Order().ToArray());
    }

    [Fact]
    public async Task ARaworcClientsRoleFieldIsAcceptedWhenItIsTheRoleTheTokenGives()
    {
        var (_, client) = await fixture.CreateOperatorAsync("raworccli");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        using var host = fixture.CreateHostClient(session.Id());
        var path = $"/api/v0/sessions/{session.Id()}/messages";

        // Raworc 0.3.5's CLI sends "role":"user" with every message.
        var fromCli = await client.PostOkAsync(path, new { content = "hello", role = "user" });
        var fromHost = await host.PostOkAsync(path, new { content = "hi", role = "host" });
        var claimed = await client.PostAsync(path, Http.Json(new { content = "pretend", role = "host" }));

        Assert.Equal("user", (string?)fromCli["role"]);
        Assert.Equal("host", (string?)fromHost["role"]);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, claimed.StatusCode);
        Assert.Equal("must be \"user\" for this token, or left out: the token decides a message's role",
            (string?)(await claimed.ReadObjectAsync())["error"]!["details"]!["role"]![0]);
        Assert.Equal(["user:hello", "host:hi"],
            (await client.GetMessagesAsync(session.Id().ToString())).Select(m => $"{m!["role"]}:{m["content"]}").ToArray());
    }

    [Fact]
    public async Task TenConcurrentMessagesAreAllStoredInOrder()
    {
        var (_, client) = await fixture.CreateOperatorAsync("flood");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        using var host = fixture.CreateHostClient(session.Id());
        await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/idle");

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            client.PostAsync($"/api/v0/sessions/{session.Id()}/messages", Http.Json(new { content = $"m{i}" }))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var postedIds = await Task.WhenAll(responses.Select(async r => (string)(await r.ReadObjectAsync())["id"]!));

        var listed = await client.GetMessagesAsync(session.Id().ToString());
        Assert.Equal(postedIds.Order().ToArray(), listed.Select(m => (string)m!["id"]!).Order().ToArray());
        var createdAt = listed.Select(m => DateTimeOffset.Parse((string)m!["created_at"]!)).ToArray();
        Assert.Equal(createdAt.Order().ToArray(), createdAt);

        // Paging after each message walks the same order, one at a time, never skipping or repeating.
        var walked = new List<string>();
        var after = "";
        for (var i = 0; i < 10; i++)
        {
            var page = await client.GetMessagesAsync(session.Id().ToString(), $"?limit=1{after}");
            var id = (string)Assert.Single(page)!["id"]!;
            walked.Add(id);
            after = $"&after={id}";
        }
        Assert.Equal(listed.Select(m => (string)m!["id"]!).ToArray(), walked);
    }

    [Fact]
    public async Task PostsThatQueueBehindOneAppendAreWrittenTogetherInOneStatementInTheirOrder()
    {
        var (_, client) = await fixture.CreateOperatorAsync("grouped");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        var id = session.Id();
        using var host = fixture.CreateHostClient(id);
        await host.PostOkAsync($"/api/v0/sessions/{id}/idle");
        var path = $"/api/v0/sessions/{id}/messages";
        await client.PostOkAsync(path, new { content = "first" }); // idle → busy; the posts below leave it busy

        // Hold the session's row lock, as a long commit would: the next append waits in Postgres, holding the API's gate.
        await using var locker = new Npgsql.NpgsqlConnection(await fixture.App.GetConnectionStringAsync(ResourceNames.Database));
        await locker.OpenAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await using (var lockRow = new Npgsql.NpgsqlCommand("SELECT 1 FROM sessions WHERE id = @id FOR UPDATE", locker, transaction))
        {
            lockRow.Parameters.AddWithValue("id", id);
            await lockRow.ExecuteScalarAsync();
        }
        var blocked = client.PostAsync(path, Http.Json(new { content = "blocked" }));
        // (pg_stat_activity keeps a query's first 1,024 bytes: the statement's start is what it shows.)
        await Waits.UntilAsync(async () => (await fixture.QueryAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'WITH s AS (%UPDATE sessions%'")).Single() == 1,
            "the append waiting for the session's row lock");
        var queued = Enumerable.Range(0, 9).Select(i => client.PostAsync(path, Http.Json(new { content = $"queued {i}" }))).ToArray();
        // Time for the nine posts to reach the gate; what is asserted below is how they were written, not this wait.
        await Task.Delay(TimeSpan.FromSeconds(3));
        await transaction.CommitAsync();

        var responses = await Task.WhenAll([blocked, .. queued]);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var answered = await Task.WhenAll(responses.Select(r => r.ReadObjectAsync()));
        var listed = await client.GetMessagesAsync(id.ToString());
        Assert.Equal(11, listed.Count);
        Assert.Equal(new[] { "first", "blocked" }, listed.Take(2).Select(m => (string)m!["content"]!));
        Assert.Equal(Enumerable.Range(0, 9).Select(i => $"queued {i}").Order(), listed.Skip(2).Select(m => (string)m!["content"]!).Order());
        // Each post was answered with its own stored message.
        Assert.Equal(answered.Select(a => (string)a["id"]!).Order(), listed.Skip(1).Select(m => (string)m!["id"]!).Order());
        // One statement for the blocked post, one for the nine behind it: a statement stamps its messages with one created_at.
        var stamps = listed.Skip(1).Select(m => (string)m!["created_at"]!).ToArray();
        Assert.Single(stamps.Skip(1).Distinct());
        Assert.True(string.CompareOrdinal(stamps[0], stamps[1]) < 0, $"{stamps[0]} before {stamps[1]}");
    }

    [Fact]
    public async Task AReaderPagingAfterTheLastMessageItSawGetsEveryMessageOfConcurrentWritersOnceInOrder()
    {
        var (_, client) = await fixture.CreateOperatorAsync("walker");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        using var host = fixture.CreateHostClient(session.Id());
        await host.PostOkAsync($"/api/v0/sessions/{session.Id()}/idle");
        var path = $"/api/v0/sessions/{session.Id()}/messages";

        // The first user message makes the session busy (a state change); the rest, the user's and the Host's, leave it busy.
        var writers = new[] { ("user", client), ("user", client), ("host", host) }.Select((writer, w) => Task.Run(async () =>
        {
            for (var i = 0; i < 15; i++)
            {
                await writer.Item2.PostOkAsync(path, new { content = $"{writer.Item1}{w}-{i}" });
            }
        })).ToArray();
        var walked = new List<string>();
        var after = "";
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            timeout.Token.ThrowIfCancellationRequested();
            var done = writers.All(t => t.IsCompleted);
            var page = await client.GetMessagesAsync(session.Id().ToString(), $"?limit=100{after}");
            walked.AddRange(page.Select(m => (string)m!["id"]!));
            after = walked.Count > 0 ? $"&after={walked[^1]}" : "";
            if (done && page.Count == 0)
            {
                break;
            }
        }
        await Task.WhenAll(writers);

        var listed = (await client.GetMessagesAsync(session.Id().ToString(), "?limit=100")).Select(m => (string)m!["id"]!).ToArray();
        Assert.Equal(45, listed.Length);
        Assert.Equal(listed, walked);
    }

    [Fact]
    public async Task LongPollReturnsAsSoonAsAMessageArrives()
    {
        var page = await HostPollWokenByAUserMessageAsync("poller");
        Assert.Equal("second", (string?)Assert.Single(page)!["content"]);
    }

    [Fact]
    public async Task AHostWokenByAUserMessageGetsTheTraceContextOfTheMessagesRequest()
    {
        var traceId = ActivityTraceId.CreateRandom().ToHexString();

        // Woken by the message, the Host's poll is answered from the wake-up's shared read, which must carry the context too.
        var page = await HostPollWokenByAUserMessageAsync("traced-poller", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");

        var message = Assert.Single(page)!;
        Assert.Equal(("second", traceId), ((string?)message["content"], ((string?)message["trace_parent"])?.Split('-')[1]));
    }

    /// <summary>
    /// A Host long-poll (after the first message of a new session of a new operator named <paramref name="operatorName"/>)
    /// woken by the user message "second", which the operator posts while it waits, with <paramref name="traceParent"/>
    /// as its <c>traceparent</c> header when given. Returns the page the poll answered.
    /// </summary>
    private async Task<JsonArray> HostPollWokenByAUserMessageAsync(string operatorName, string? traceParent = null)
    {
        var (_, client) = await fixture.CreateOperatorAsync(operatorName);
        using var _ = client;
        var session = await client.CreateSessionAsync(new { prompt = "first" });
        var first = (string)(await client.GetMessagesAsync(session.Id().ToString()))[0]!["id"]!;
        using var host = fixture.CreateHostClient(session.Id());

        var poll = host.GetAsync($"/api/v0/sessions/{session.Id()}/messages?after={first}&wait=20");
        // Time for the poll to reach its wait; a poll that answered before the message would hold no message at all.
        await Task.Delay(300);
        using var post = new HttpRequestMessage(HttpMethod.Post, $"/api/v0/sessions/{session.Id()}/messages")
        {
            Content = Http.Json(new { content = "second" }),
        };
        if (traceParent is not null)
        {
            post.Headers.Add("traceparent", traceParent);
        }
        Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(post)).StatusCode);

        return await (await poll.WaitAsync(TimeSpan.FromSeconds(10))).ReadArrayAsync();
    }

    [Fact]
    public async Task LongPollsWokenTogetherEachGetTheirOwnPage()
    {
        var (_, client) = await fixture.CreateOperatorAsync("crowd");
        using var _ = client;
        var session = await client.CreateSessionAsync(new { prompt = "first" });
        var messages = $"/api/v0/sessions/{session.Id()}/messages";
        var first = (string)(await client.GetMessagesAsync(session.Id().ToString()))[0]!["id"]!;
        using var host = fixture.CreateHostClient(session.Id());

        // Woken by one message, they share one read; each cuts its own page and headers from it.
        var polls = Enumerable.Range(0, 8).Select(i => client.GetAsync(i % 2 == 0
            ? $"{messages}?after={first}&wait=20"
            : $"{messages}?after={first}&wait=20&limit=1&offset=1")).ToList();
        await Task.Delay(500);
        var second = await host.PostOkAsync(messages, new { content = "second" });

        foreach (var (poll, i) in polls.Select((p, i) => (p, i)))
        {
            var response = await poll.WaitAsync(TimeSpan.FromSeconds(15));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await response.ReadArrayAsync();
            Assert.Equal("1", response.Headers.GetValues("X-Total-Count").Single());
            if (i % 2 == 0)
            {
                Assert.Equal((string)second["id"]!, (string)Assert.Single(page)!["id"]!);
                Assert.Equal("0", response.Headers.GetValues("X-Page-Offset").Single());
            }
            else
            {
                Assert.Empty(page);
                Assert.Equal("1", response.Headers.GetValues("X-Page-Limit").Single());
            }
        }
    }

    [Fact]
    public async Task LongPollWithNothingNewAnswersAnEmptyListWhenTheWaitEnds()
    {
        var (_, client) = await fixture.CreateOperatorAsync("patient");
        using var _ = client;
        var session = await client.CreateSessionAsync(new { prompt = "only" });
        var only = (string)(await client.GetMessagesAsync(session.Id().ToString()))[0]!["id"]!;

        var watch = Stopwatch.StartNew();
        var response = await client.GetAsync($"/api/v0/sessions/{session.Id()}/messages?after={only}&wait=1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.ReadArrayAsync());
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.9), $"returned after {watch.Elapsed}");
    }

    [Fact]
    public async Task APageOfLongMessagesStopsAtTheSizeBoundAndSaysSo()
    {
        var (_, client) = await fixture.CreateOperatorAsync("longread");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        using var host = fixture.CreateHostClient(session.Id());
        var messages = $"/api/v0/sessions/{session.Id()}/messages";
        var posted = new List<string>();
        for (var i = 0; i < 45; i++)
        {
            var message = await host.PostOkAsync(messages, new { content = $"{i:D2}" + new string('a', 99_998) });
            posted.Add((string)message["id"]!);
        }
        // Each message is 100,000 bytes of content plus "{}" of metadata.
        var fits = MessageOptions.DefaultMaxPageBytes / 100_002;

        var first = await client.GetAsync($"{messages}?limit=1000");
        var firstPage = await first.ReadArrayAsync();
        Assert.Equal(posted.Take(fits), firstPage.Select(m => (string)m!["id"]!));
        Assert.Equal("true", first.Headers.GetValues("X-Page-Truncated").Single());
        Assert.Equal("45", first.Headers.GetValues("X-Total-Count").Single());
        Assert.Equal("1000", first.Headers.GetValues("X-Page-Limit").Single());

        // The rest follows the last id of the page, or the offset of the count received; then the page is whole.
        var rest = await client.GetAsync($"{messages}?limit=1000&after={posted[fits - 1]}");
        var byOffset = await client.GetAsync($"{messages}?limit=1000&offset={fits}");
        Assert.Equal(posted.Skip(fits), (await rest.ReadArrayAsync()).Select(m => (string)m!["id"]!));
        Assert.Equal(posted.Skip(fits), (await byOffset.ReadArrayAsync()).Select(m => (string)m!["id"]!));
        Assert.Equal("false", rest.Headers.GetValues("X-Page-Truncated").Single());
        Assert.Equal("false", byOffset.Headers.GetValues("X-Page-Truncated").Single());

        // Newest first, the size bound cuts the same way, and the rest follows with before = the page's last id.
        var tail = await client.GetAsync($"{messages}?order=desc&limit=1000");
        Assert.Equal(posted.AsEnumerable().Reverse().Take(fits), (await tail.ReadArrayAsync()).Select(m => (string)m!["id"]!));
        Assert.Equal("true", tail.Headers.GetValues("X-Page-Truncated").Single());
        var older = await client.GetAsync($"{messages}?order=desc&limit=1000&before={posted[^fits]}");
        Assert.Equal(posted.AsEnumerable().Reverse().Skip(fits), (await older.ReadArrayAsync()).Select(m => (string)m!["id"]!));
        Assert.Equal("false", older.Headers.GetValues("X-Page-Truncated").Single());

        // A page cut short by count is not cut by size.
        var small = await client.GetAsync($"{messages}?limit=3");
        Assert.Equal(3, (await small.ReadArrayAsync()).Count);
        Assert.Equal("false", small.Headers.GetValues("X-Page-Truncated").Single());

        // Long-polling after the last message still waits and wakes.
        var poll = client.GetAsync($"{messages}?after={posted[^1]}&wait=20&limit=1000");
        var newest = await host.PostOkAsync(messages, new { content = "newest" });
        var woken = await (await poll.WaitAsync(TimeSpan.FromSeconds(15))).ReadArrayAsync();
        Assert.Equal((string)newest["id"]!, (string)Assert.Single(woken)!["id"]!);
    }

    [Fact]
    public async Task NewestFirstPagesWalkBackFromTheTailWithBefore()
    {
        var (_, client) = await fixture.CreateOperatorAsync("tailreader");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        using var host = fixture.CreateHostClient(session.Id());
        var messages = $"/api/v0/sessions/{session.Id()}/messages";
        var posted = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            posted.Add((string)(await host.PostOkAsync(messages, new { content = $"m{i}" }))["id"]!);
        }

        var newest = await client.GetAsync($"{messages}?order=desc&limit=3");
        Assert.Equal(["m6", "m5", "m4"], (await newest.ReadArrayAsync()).Select(m => (string)m!["content"]!));
        Assert.Equal("7", newest.Headers.GetValues("X-Total-Count").Single());
        Assert.Equal(["m3", "m2", "m1"], (await client.GetMessagesAsync(session.Id().ToString(), $"?order=desc&limit=3&before={posted[4]}")).Select(m => (string)m!["content"]!));
        var oldest = await client.GetAsync($"{messages}?order=desc&limit=3&before={posted[1]}");
        Assert.Equal(["m0"], (await oldest.ReadArrayAsync()).Select(m => (string)m!["content"]!));
        Assert.Equal("1", oldest.Headers.GetValues("X-Total-Count").Single());

        // before and after bound either order; offset counts from the first message of the order.
        Assert.Equal(["m2", "m3"], (await client.GetMessagesAsync(session.Id().ToString(), $"?after={posted[1]}&before={posted[4]}")).Select(m => (string)m!["content"]!));
        Assert.Equal(["m5", "m4"], (await client.GetMessagesAsync(session.Id().ToString(), $"?order=desc&offset=1&limit=2")).Select(m => (string)m!["content"]!));
        Assert.Equal(["m0", "m1"], (await client.GetMessagesAsync(session.Id().ToString(), "?order=asc&limit=2")).Select(m => (string)m!["content"]!));
    }

    [Fact]
    public async Task AToolCallWhoseArgumentsHoldANulIsStoredAsAToolExecutionWithTheNulReplaced()
    {
        // The model writes a tool call's arguments: one U+0000 in them (a file's text here) kept the call out of the history.
        await using var harness = await AgentHarness.StartAsync(
            ScriptStep.CallTool(TextEditorTool.Name, new JsonObject { ["command"] = "create", ["path"] = "nul.txt", ["file_text"] = "a\0b" }),
            ScriptStep.Answer("done"));
        var (_, client) = await fixture.CreateOperatorAsync("nulcall");
        using var _ = client;
        var session = await client.CreateSessionAsync(new { prompt = "Write it." });
        using var host = fixture.CreateHostClient(session.Id());
        var api = new RaworcApiClient(host, new AgentOptions
        {
            ApiUrl = host.BaseAddress!,
            SessionId = session.Id().ToString(),
            HostToken = "sent by the client already",
            SessionDirectory = harness.Root,
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var history = await api.GetAllMessagesAsync(null, timeout.Token);
        await harness.CreateRunner("openai").RunAsync(history, async (message, ct) => await api.PostMessageAsync(message, ct), timeout.Token);

        var stored = Assert.Single(await client.GetMessagesAsync(session.Id().ToString()), m => (string?)m!["metadata"]?["type"] == "tool_execution")!;
        Assert.Equal($"{TextEditorTool.Name} create nul.txt\nFile created successfully at: {Path.Combine(harness.Root, "nul.txt")}", (string?)stored["content"]);
        var arguments = stored["metadata"]!["arguments"]!.AsObject();
        Assert.Equal(("create", "nul.txt", "a\uFFFDb", 3),
            ((string?)arguments["command"], (string?)arguments["path"], (string?)arguments["file_text"], arguments.Count));
        Assert.Equal("a\0b", await File.ReadAllTextAsync(Path.Combine(harness.Root, "nul.txt")));
    }

    [Fact]
    public async Task CountCountsTheSessionsMessages()
    {
        var (_, client) = await fixture.CreateOperatorAsync("counter");
        using var _ = client;
        var session = await client.CreateSessionAsync(new { prompt = "a" });
        await client.PostOkAsync($"/api/v0/sessions/{session.Id()}/messages", new { content = "b" });

        var count = await (await client.GetAsync($"/api/v0/sessions/{session.Id()}/messages/count")).ReadObjectAsync();
        Assert.Equal(2, (int)count["count"]!);
    }
}
