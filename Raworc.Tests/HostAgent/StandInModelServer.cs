using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Raworc.Tests.HostAgent;

/// <summary>
/// A model provider on 127.0.0.1 that speaks the Anthropic Messages protocol (<c>POST /v1/messages</c>) and the
/// OpenAI chat-completions protocol (<c>POST /v1/chat/completions</c>), and plays a script of replies (tool calls,
/// answers, HTTP errors), recording every request. Text answers also stream (<c>"stream": true</c>). Each answer reports
/// its own usage (different for every call), recorded in <see cref="RecordedRequest.ReportedUsage"/>. An exhausted
/// script answers 400.
/// </summary>
public sealed class StandInModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ScriptStep> _script;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<ScriptStep>> _scriptsByKey = new();
    private readonly List<RecordedRequest> _requests = [];
    private int _callId;

    private StandInModelServer(WebApplication app, IEnumerable<ScriptStep> script)
    {
        _app = app;
        _script = new ConcurrentQueue<ScriptStep>(script);
    }

    /// <summary>Base URL for the Anthropic client (it adds <c>/v1/messages</c>).</summary>
    public Uri AnthropicBaseUrl { get; private set; } = null!;

    /// <summary>Endpoint for the OpenAI client (it adds <c>/chat/completions</c>).</summary>
    public Uri OpenAIBaseUrl => new(AnthropicBaseUrl, "v1");

    /// <summary>The base URL for <paramref name="protocol"/>.</summary>
    public Uri BaseUrlFor(string protocol) => protocol == "anthropic" ? AnthropicBaseUrl : OpenAIBaseUrl;

    /// <summary>Every request received so far, in order (HTTP errors included).</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Starts the server on a free loopback port with the given script.</summary>
    public static async Task<StandInModelServer> StartAsync(params ScriptStep[] script)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new StandInModelServer(app, script);
        app.MapPost("/v1/messages", context => server.HandleAsync(context, "anthropic"));
        app.MapPost("/v1/chat/completions", context => server.HandleAsync(context, "openai"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(cts.Token);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server.AnthropicBaseUrl = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    /// <summary>Adds steps to the end of the script.</summary>
    public void Enqueue(params ScriptStep[] steps)
    {
        foreach (var step in steps)
        {
            _script.Enqueue(step);
        }
    }

    /// <summary>
    /// Adds steps to the script of requests that carry <paramref name="apiKey"/>: several sessions, each given its
    /// own key as a secret, then follow their own scripts however their turns interleave.
    /// </summary>
    public void EnqueueFor(string apiKey, params ScriptStep[] steps)
    {
        var queue = _scriptsByKey.GetOrAdd(apiKey, _ => new ConcurrentQueue<ScriptStep>());
        foreach (var step in steps)
        {
            queue.Enqueue(step);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context, string protocol)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))!.AsObject();
        // The Anthropic protocol carries the key in x-api-key; a bearer token is read too (the gateway accepts both).
        var apiKey = context.Request.Headers["x-api-key"].ToString() is { Length: > 0 } header
            ? header
            : context.Request.Headers.Authorization.ToString().Replace("Bearer ", "", StringComparison.Ordinal);
        var request = (protocol == "anthropic" ? StandInProtocols.ParseAnthropic(body, apiKey) : StandInProtocols.ParseOpenAI(body, apiKey))
            with
            {
                Credentials = $"{context.Request.Headers.Authorization} {context.Request.Headers["x-api-key"]}",
                Images = StandInProtocols.Images(body),
                AnthropicBeta = context.Request.Headers["anthropic-beta"].ToString(),
            };
        lock (_requests)
        {
            _requests.Add(request);
        }

        var script = _scriptsByKey.TryGetValue(apiKey, out var keyed) ? keyed : _script;
        if (!script.TryDequeue(out var step))
        {
            await WriteAsync(context, 400, StandInProtocols.Error(protocol, 400, "The stand-in's script is exhausted."));
            return;
        }

        if (step is DropStep)
        {
            context.Abort();
            return;
        }

        if (step is NotJsonStep)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("<html>502 Bad Gateway</html>", context.RequestAborted);
            return;
        }

        if (step is HangStep hang)
        {
            await Task.Delay(hang.Delay, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            step = ScriptStep.Fail(500);
        }

        var model = body["model"]?.GetValue<string>() ?? "stand-in";
        var call = Interlocked.Increment(ref _callId);
        var id = $"call_{call}";
        (long, long) usage = (100 + 7 * call, 3 + call);
        if (body["stream"]?.GetValue<bool>() == true)
        {
            var (first, rest, release) = step switch
            {
                StreamStep stream => (stream.First, stream.Rest, stream.Release),
                AnswerStep answer => (answer.Text(request), "", Task.CompletedTask),
                _ => (null, null, Task.CompletedTask),
            };
            if (first is null)
            {
                await WriteAsync(context, 400, StandInProtocols.Error(protocol, 400, "The stand-in streams text answers only."));
                return;
            }
            request.ReportedUsage = usage;
            await StandInStreams.WriteAsync(context, protocol, body, model, id, first, rest!, release, usage);
            return;
        }

        if (step is StreamStep whole)
        {
            step = ScriptStep.Answer(whole.First + whole.Rest);
        }
        if (step is not FailStep)
        {
            request.ReportedUsage = usage;
        }
        var (status, reply) = step switch
        {
            FailStep fail => (fail.Status, StandInProtocols.Error(protocol, fail.Status, $"scripted failure {fail.Status}")),
            ToolCallStep tool => (200, protocol == "anthropic"
                ? StandInProtocols.AnthropicToolUse(model, id, tool.Name, tool.Arguments, usage)
                : StandInProtocols.OpenAIToolCall(model, id, tool.Name, tool.Arguments, usage)),
            AnswerStep answer => (200, protocol == "anthropic"
                ? StandInProtocols.AnthropicText(model, id, answer.Text(request), usage)
                : StandInProtocols.OpenAIText(model, id, answer.Text(request), usage)),
            _ => throw new InvalidOperationException("Unknown script step."),
        };
        await WriteAsync(context, status, reply);
    }

    private static async Task WriteAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }
}
