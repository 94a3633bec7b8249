using System.Diagnostics;
using System.Text.Json.Nodes;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.EndToEnd;

/// <summary>
/// One request, one trace (issue 15, item 9), as the API exports it over OTLP: a session's creation holds the worker's
/// engine calls, and a user message holds the whole turn of the Host that answers it.
/// </summary>
[ComputerLane]
[Collection(ComputersAppCollection.Name)]
public sealed class TurnTraceTests(ComputersAppFixture fixture) : IAsyncLifetime
{
    /// <summary>On Swarm, deletes the sessions earlier tests left (<see cref="ComputersAppFixture.MakeRoomAsync"/>).</summary>
    public Task InitializeAsync() => fixture.MakeRoomAsync();

    /// <inheritdoc />
    public Task DisposeAsync() => Task.CompletedTask;

    private const string Messages = "/api/v0/sessions/{id}/messages/";

    [Fact]
    public async Task AUserMessageIsOneTraceHoldingTheHostsWholeTurnAndACreateHoldsItsDockerCalls()
    {
        var (_, client) = await fixture.CreateOperatorAsync("traced");
        using var _ = client;
        var key = ComputersAppFixture.NewModelKey();
        fixture.Model.EnqueueFor(key,
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = "echo traced" }),
            ScriptStep.Answer("Traced."));

        // The client's own trace context, so its traces are found by id.
        var (createTrace, createCaller) = (ActivityTraceId.CreateRandom().ToHexString(), ActivitySpanId.CreateRandom().ToHexString());
        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/v0/sessions")
        {
            Content = Http.Json(new { name = SessionTestExtensions.UniqueName("traced"), secrets = new { OPENAI_API_KEY = key } }),
        };
        create.Headers.Add("traceparent", $"00-{createTrace}-{createCaller}-01");
        var id = (await (await client.SendAsync(create)).ReadObjectAsync()).Id();
        await client.WaitForStateAsync(id, "idle");

        var (messageTrace, messageCaller) = (ActivityTraceId.CreateRandom().ToHexString(), ActivitySpanId.CreateRandom().ToHexString());
        using var post = new HttpRequestMessage(HttpMethod.Post, $"/api/v0/sessions/{id}/messages") { Content = Http.Json(new { content = "Trace this." }) };
        post.Headers.Add("traceparent", $"00-{messageTrace}-{messageCaller}-01");
        Assert.True((await client.SendAsync(post)).IsSuccessStatusCode);
        await client.WaitForMessagesAsync(id, m => m.HasResponse());
        await client.WaitForStateAsync(id, "idle");
        await Waits.UntilAsync(() => Task.FromResult(fixture.Traces.Spans.Any(s => s.TraceId == messageTrace && Route(s) == "POST /api/v0/sessions/{id}/idle")),
            $"the turn's last call is exported (spans of the trace so far: {string.Join(", ", fixture.Traces.Spans.Where(s => s.TraceId == messageTrace).Select(Route))}; " +
            $"unreadable exports: {fixture.Traces.Unreadable})");

        // Creation: request → the worker's "work create" → the engine calls.
        var spans = fixture.Traces.Spans;
        var createRequest = Assert.Single(spans, s => s.TraceId == createTrace && s.Kind == ReceivedSpan.Server);
        Assert.Equal((createCaller, "POST /api/v0/sessions/"), (createRequest.ParentSpanId, Route(createRequest)));
        var work = Assert.Single(spans, s => s.TraceId == createTrace && s.Name == "work create");
        Assert.Equal(createRequest.SpanId, work.ParentSpanId);
        var engineCalls = spans.Where(s => s.TraceId == createTrace && s.ParentSpanId == work.SpanId && s.Kind == ReceivedSpan.Client)
            .Select(s => s.Name).ToHashSet();
        // On Swarm the computer is a service the manager starts: the API asks for the nodes and creates the service.
        Assert.Superset(fixture.OnSwarm
            ? new HashSet<string> { "docker GET /nodes", "docker POST /services/create" }
            : new HashSet<string> { "docker POST /containers/create", "docker POST /containers/{id}/start" }, engineCalls);

        // The message: its request, and the Host's turn as its children, in order (repeated busy calls are heartbeats).
        var request = Assert.Single(spans, s => s.TraceId == messageTrace && s.ParentSpanId == messageCaller);
        Assert.Equal("POST " + Messages, Route(request));
        var turn = spans.Where(s => s.ParentSpanId == request.SpanId && s.Kind == ReceivedSpan.Server).OrderBy(s => s.StartUnixNano)
            .Select(Route).ToList();
        Assert.Equal("POST /api/v0/sessions/{id}/busy", turn[0]);
        Assert.Equal(
            [
                "POST /api/v0/sessions/{id}/model/openai/{**path}", "POST " + Messages,
                "POST /api/v0/sessions/{id}/model/openai/{**path}", "POST " + Messages, "POST /api/v0/sessions/{id}/idle",
            ],
            turn.Skip(1).Where(r => r != turn[0]));
        // The Host's long-poll that received the message began before it: it links to the message's request instead.
        Assert.Contains(spans, s => s.Kind == ReceivedSpan.Server && Route(s) == "GET " + Messages && s.Links.Contains((messageTrace, request.SpanId)));
    }

    private static string Route(ReceivedSpan span) =>
        $"{span.Attributes.GetValueOrDefault("http.request.method")} {span.Attributes.GetValueOrDefault("http.route")}";
}
