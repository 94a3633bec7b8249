using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Raworc.Tests.Webhooks;

/// <summary>One request the receiver got.</summary>
/// <param name="Path">Its path (each test's webhook has its own).</param>
/// <param name="Signature">The <c>Raworc-Signature</c> header.</param>
/// <param name="EventId">The <c>Raworc-Event-Id</c> header.</param>
/// <param name="EventType">The <c>Raworc-Event-Type</c> header.</param>
/// <param name="Body">The raw body.</param>
/// <param name="Status">What the receiver answered; <see cref="WebhookReceiver.Abandoned"/> for a held request whose sender
/// went away before it was let go.</param>
public sealed record ReceivedRequest(string Path, string? Signature, string? EventId, string? EventType, string Body, int Status)
{
    /// <summary>The body as JSON.</summary>
    public JsonObject Event => JsonNode.Parse(Body)!.AsObject();
}

/// <summary>
/// A real HTTP receiver for webhooks on 127.0.0.1 (Kestrel), recording every request. It can be stopped ("down": the
/// port refuses connections) and started again on the same port, told to answer a path with a status of failure, and told
/// to hold a path's requests unanswered (the sender's attempt stays in flight) until they are let go.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private readonly ConcurrentDictionary<string, int> _statusByPath = new();
    private readonly ConcurrentDictionary<string, string> _locationByPath = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _holdByPath = new();
    private readonly ConcurrentDictionary<string, int> _holding = new();
    private WebApplication? _app;

    private WebhookReceiver(int port) => Port = port;

    /// <summary>The status recorded for a held request whose sender closed the connection first (nginx's 499).</summary>
    public const int Abandoned = 499;

    /// <summary>The fixed port.</summary>
    public int Port { get; }

    /// <summary>The URL for <paramref name="path"/> (starting with <c>/</c>).</summary>
    public string UrlFor(string path) => $"http://127.0.0.1:{Port}{path}";

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    /// <summary>The requests to <paramref name="path"/> that were answered 2xx, in order.</summary>
    public List<ReceivedRequest> AcceptedAt(string path) => [.. _requests.Where(r => r.Path == path && r.Status < 300)];

    /// <summary>Starts a receiver on a free loopback port.</summary>
    public static async Task<WebhookReceiver> StartAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var receiver = new WebhookReceiver(port);
        await receiver.UpAsync();
        return receiver;
    }

    /// <summary>Answers <paramref name="path"/> with <paramref name="status"/> from now on.</summary>
    public void Answer(string path, int status) => _statusByPath[path] = status;

    /// <summary>Answers <paramref name="path"/> with a 307 to <paramref name="location"/> from now on.</summary>
    public void Redirect(string path, string location)
    {
        _statusByPath[path] = 307;
        _locationByPath[path] = location;
    }

    /// <summary>Holds every request to <paramref name="path"/> unanswered from now on, until <see cref="LetGo"/>.</summary>
    public void Hold(string path) => _holdByPath[path] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Answers the held requests to <paramref name="path"/> and the ones after them as usual.</summary>
    public void LetGo(string path)
    {
        if (_holdByPath.TryRemove(path, out var hold))
        {
            hold.SetResult();
        }
    }

    /// <summary>Whether a request to <paramref name="path"/> is being held now.</summary>
    public bool IsHolding(string path) => _holding.TryGetValue(path, out var count) && count > 0;

    /// <summary>Starts listening again on the same port.</summary>
    public async Task UpAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{Port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var path = context.Request.Path.Value!;
            void Record(int status) => _requests.Enqueue(new ReceivedRequest(path, context.Request.Headers["Raworc-Signature"],
                context.Request.Headers["Raworc-Event-Id"], context.Request.Headers["Raworc-Event-Type"], body, status));
            if (_holdByPath.TryGetValue(path, out var hold))
            {
                _holding.AddOrUpdate(path, 1, (_, n) => n + 1);
                try
                {
                    await hold.Task.WaitAsync(context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    Record(Abandoned);
                    return Results.Empty;
                }
                finally
                {
                    _holding.AddOrUpdate(path, 0, (_, n) => n - 1);
                }
            }
            var status = _statusByPath.GetValueOrDefault(path, 200);
            Record(status);
            if (_locationByPath.TryGetValue(path, out var location))
            {
                context.Response.Headers.Location = location;
            }
            return Results.StatusCode(status);
        });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(cts.Token);
        _app = app;
    }

    /// <summary>Stops listening: connections to the port are refused until <see cref="UpAsync"/>.</summary>
    public async Task DownAsync()
    {
        if (_app is not null)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _app.StopAsync(cts.Token);
            await _app.DisposeAsync();
            _app = null;
        }
    }

    /// <summary>
    /// Verifies a <c>Raworc-Signature</c> the way the README tells receivers to: HMAC-SHA256 keyed with the secret's UTF-8
    /// bytes over <c>"&lt;t&gt;.&lt;raw body&gt;"</c>, compared in constant time with <c>v1</c>.
    /// </summary>
    public static bool Verifies(string secret, string? header, string body)
    {
        var parts = (header ?? "").Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1))
        {
            return false;
        }
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        return CryptographicOperations.FixedTimeEquals(expected, Convert.FromHexString(v1));
    }

    public ValueTask DisposeAsync() => new(DownAsync());
}
