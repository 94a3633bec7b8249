using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Raworc.HostAgent.Api;

namespace Raworc.Tests.HostAgent;

/// <summary>
/// The part of the Raworc API the Host uses, in memory, for one session: messages (with <c>after</c>, <c>before</c>,
/// <c>order</c>, <c>wait</c>, <c>limit</c>, <c>offset</c>), posting host messages with the Host token, and busy/idle with the state rules of
/// spec/API.md (a disallowed transition is a 409 and is recorded).
/// </summary>
public sealed class StandInApi : IAsyncDisposable
{
    public const string SessionId = "11111111-2222-3333-4444-555555555555";
    public const string HostToken = "host-token-for-tests";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly WebApplication _app;
    private readonly List<SessionMessage> _messages = [];
    private readonly List<string> _transitions = [];
    private readonly List<string> _conflicts = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private StandInApi(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary><c>init</c>, <c>idle</c> or <c>busy</c>.</summary>
    public string State { get; private set; } = "init";

    public IReadOnlyList<SessionMessage> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>Every accepted state change, e.g. <c>["idle","busy","idle"]</c>.</summary>
    public IReadOnlyList<string> Transitions
    {
        get
        {
            lock (_messages)
            {
                return [.. _transitions];
            }
        }
    }

    /// <summary>When set, a page holds at most this many messages and says it was cut (<c>X-Page-Truncated</c>), as the API does by size.</summary>
    public int? SizeCut { get; set; }

    /// <summary>Every refused state change, e.g. <c>"busy while busy"</c>.</summary>
    public IReadOnlyList<string> Conflicts
    {
        get
        {
            lock (_messages)
            {
                return [.. _conflicts];
            }
        }
    }

    public static async Task<StandInApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var api = new StandInApi(app);
        var session = app.MapGroup($"/api/v0/sessions/{SessionId}");
        session.AddEndpointFilter(async (context, next) =>
            context.HttpContext.Request.Headers.Authorization.ToString() == $"Bearer {HostToken}" ? await next(context) : Results.StatusCode(401));
        session.MapGet("/messages", api.GetMessagesAsync);
        session.MapPost("/messages", api.PostMessageAsync);
        session.MapPost("/busy", () => api.Transition("busy", from: ["idle"]));
        session.MapPost("/idle", () => api.Transition("idle", from: ["init", "busy"]));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(cts.Token);
        api.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().TrimEnd('/') + "/");
        return api;
    }

    /// <summary>Stores a user message as the API would.</summary>
    public SessionMessage AddUserMessage(string content) => Add("user", content, null);

    /// <summary>Stores any message (to seed a history).</summary>
    public SessionMessage Add(string role, string content, JsonObject? metadata)
    {
        lock (_messages)
        {
            var message = new SessionMessage(Guid.NewGuid().ToString(), SessionId, role, content, metadata, DateTimeOffset.UtcNow);
            _messages.Add(message);
            _changed.TrySetResult();
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return message;
        }
    }

    /// <summary>How many times a long-poll found nothing new and began to wait: an agent that does so has nothing left to answer.</summary>
    public int Waits => Volatile.Read(ref _waits);

    private int _waits;

    /// <summary>Waits, within <paramref name="timeout"/>, until <paramref name="condition"/> holds over the stored messages.</summary>
    public async Task WaitForAsync(Func<IReadOnlyList<SessionMessage>, bool> condition, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!condition(Messages))
        {
            await Task.Delay(50, cts.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }

    /// <summary>Every answered <c>GET …/messages</c>: its <c>order</c> (<c>asc</c> or <c>desc</c>) and how many messages it returned.</summary>
    public IReadOnlyList<(string Order, int Count)> Reads
    {
        get
        {
            lock (_reads)
            {
                return [.. _reads];
            }
        }
    }

    private readonly List<(string Order, int Count)> _reads = [];

    private async Task<IResult> GetMessagesAsync(string? after, string? before, string? order, int? wait, int? limit, int? offset, HttpResponse response, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(wait ?? 0);
        while (true)
        {
            Task changed;
            List<SessionMessage> page;
            lock (_messages)
            {
                var start = after is null ? 0 : _messages.FindIndex(m => m.Id == after) + 1;
                var end = before is null ? _messages.Count : _messages.FindIndex(m => m.Id == before);
                var range = _messages.Take(end).Skip(start);
                page = [.. (order == "desc" ? range.Reverse() : range).Skip(offset ?? 0).Take(limit ?? 100)];
                changed = _changed.Task;
            }

            var left = deadline - DateTime.UtcNow;
            if (page.Count > 0 || left <= TimeSpan.Zero)
            {
                var cut = SizeCut is { } most && page.Count > most;
                response.Headers["X-Page-Truncated"] = cut ? "true" : "false";
                var served = cut ? page.Take(SizeCut!.Value).ToList() : page;
                lock (_reads)
                {
                    _reads.Add((order ?? "asc", served.Count));
                }
                return Results.Json(served, Json);
            }
            Interlocked.Increment(ref _waits);

            await Task.WhenAny(changed, Task.Delay(left, cancellationToken));
            // A poller that went away (an agent stopped mid-poll) ends the wait, as the API's does; looping on would spin
            // until the deadline and hold the server's stop that long.
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private int _postAttempts;
    private int _postsToRefuse;
    private int _refusalStatus;

    /// <summary>Every <c>POST …/messages</c> received, refused or not.</summary>
    public int PostAttempts
    {
        get
        {
            lock (_messages)
            {
                return _postAttempts;
            }
        }
    }

    /// <summary>
    /// The next <paramref name="count"/> message posts are not stored: answered with <paramref name="status"/> in the API's
    /// error envelope, or, for status 0, with the connection dropped before any answer.
    /// </summary>
    public void RefusePosts(int count, int status)
    {
        lock (_messages)
        {
            (_postsToRefuse, _refusalStatus) = (count, status);
        }
    }

    private async Task<IResult> PostMessageAsync(HttpRequest request)
    {
        int? refusal = null;
        lock (_messages)
        {
            _postAttempts++;
            if (_postsToRefuse > 0)
            {
                _postsToRefuse--;
                refusal = _refusalStatus;
            }
        }
        if (refusal is { } status)
        {
            if (status == 0)
            {
                request.HttpContext.Abort();
                return Results.Empty;
            }
            return Results.Json(new { error = new { code = status >= 500 ? "SERVICE_UNAVAILABLE" : "VALIDATION_ERROR", message = "Refused by the test." } },
                statusCode: status);
        }
        var body = (await JsonNode.ParseAsync(request.Body))!.AsObject();
        var message = Add("host", body["content"]!.GetValue<string>(), body["metadata"]?.AsObject().DeepClone().AsObject());
        return Results.Json(message, Json, statusCode: 201);
    }

    private IResult Transition(string to, string[] from)
    {
        lock (_messages)
        {
            if (!from.Contains(State))
            {
                _conflicts.Add($"{to} while {State}");
                return Results.Json(new { error = new { code = "CONFLICT", message = $"The session is {State}." } }, statusCode: 409);
            }

            State = to;
            _transitions.Add(to);
            return Results.Ok();
        }
    }
}
