using System.Net;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Raworc.Client.Models;

namespace Raworc.Client;

/// <summary>
/// A session's event stream (<c>text/event-stream</c>, parsed with <see cref="SseParser"/>). When the connection
/// drops, ends without a <c>deleted</c> event, fails with a 5xx or 429, or stays silent for longer than
/// <see cref="IdleTimeout"/> (the server sends a heartbeat every 15 s), it reconnects with <c>Last-Event-ID</c> set
/// to the last id seen, so no event is lost or repeated. It waits the server's <c>retry:</c> interval, else
/// <see cref="ReconnectDelay"/>, doubling per failed attempt up to 30 s. Other errors end it with a
/// <see cref="RaworcApiException"/> (a deleted session's stream that reconnects gets 404 <c>NOT_FOUND</c>).
/// </summary>
public sealed class SessionEventStream : IAsyncDisposable
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    private readonly RaworcClient _client;
    private readonly string _path;
    private HttpResponseMessage? _response;
    private SseParser<SessionEvent?>? _parser;
    private TimeSpan? _serverDelay;

    internal SessionEventStream(RaworcClient client, string path, string? lastEventId)
    {
        _client = client;
        _path = path;
        LastEventId = lastEventId;
    }

    /// <summary>The id of the last event read (opaque; send it back to resume), or the one given at open.</summary>
    public string? LastEventId { get; private set; }

    /// <summary>Times the stream has reconnected after the first connection.</summary>
    public int Reconnects { get; private set; }

    /// <summary>Silence after which the connection is taken for dead and replaced; default 45 s (three missed heartbeats).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>First wait before reconnecting when the server advised none; default 1 s.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    internal async Task ConnectAsync(CancellationToken cancellationToken)
    {
        Close();
        _response = await _client.OpenStreamAsync(_path, LastEventId, cancellationToken);
        var body = await _response.Content.ReadAsStreamAsync(cancellationToken);
        _parser = SseParser.Create(new IdleTimeoutStream(body, IdleTimeout), Parse);
    }

    /// <summary>
    /// Every event from now on, in order, across reconnects, until <paramref name="cancellationToken"/> is cancelled
    /// (the enumeration then throws <see cref="OperationCanceledException"/>) or a <see cref="DeletedEvent"/> (the last).
    /// Events of a type this client does not know are skipped. Enumerate once.
    /// </summary>
    /// <param name="cancellationToken">Ends the enumeration.</param>
    public async IAsyncEnumerable<SessionEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var failures = 0;
        while (true)
        {
            if (_parser is null)
            {
                await Task.Delay(Delay(failures), cancellationToken);
                try
                {
                    await ConnectAsync(cancellationToken);
                    Reconnects++;
                }
                catch (Exception e) when (IsTransient(e, cancellationToken))
                {
                    failures++;
                    continue;
                }
            }

            var delivered = false;
            await using var items = _parser!.EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                SseItem<SessionEvent?> item;
                try
                {
                    if (!await items.MoveNextAsync())
                    {
                        break;
                    }
                    item = items.Current;
                }
                catch (Exception e) when (IsTransient(e, cancellationToken))
                {
                    break;
                }

                failures = 0;
                delivered = true;
                _serverDelay = item.ReconnectionInterval ?? _serverDelay;
                LastEventId = string.IsNullOrEmpty(item.EventId) ? LastEventId : item.EventId;
                if (item.Data is { } found)
                {
                    yield return found with { Id = item.EventId };
                    if (found is DeletedEvent)
                    {
                        Close();
                        yield break;
                    }
                }
            }

            // The connection ended without a deleted event (a restart, a proxy, silence): resume where it stopped,
            // waiting longer each time a connection ends with nothing delivered.
            Close();
            failures += delivered ? 0 : 1;
        }
    }

    /// <summary>Closes the connection.</summary>
    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }

    private TimeSpan Delay(int failures)
    {
        var first = _serverDelay ?? ReconnectDelay;
        var delay = first * Math.Pow(2, Math.Min(failures, 10));
        return delay < MaxDelay ? delay : MaxDelay;
    }

    private void Close()
    {
        _parser = null;
        _response?.Dispose();
        _response = null;
    }

    private static bool IsTransient(Exception e, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        HttpRequestException or IOException => true,
        RaworcApiException api => (int)api.Status >= 500 || api.Status == HttpStatusCode.TooManyRequests,
        _ => false,
    };

    private static SessionEvent? Parse(string eventType, ReadOnlySpan<byte> data) => eventType switch
    {
        "message" => new MessageEvent(null, Deserialize(data, WireJson.Default.Message)),
        "state" => new StateEvent(null, Deserialize(data, WireJson.Default.Session)),
        "screen" => Screen(Deserialize(data, WireJson.Default.SessionSignal)),
        "deleted" => new DeletedEvent(null, Deserialize(data, WireJson.Default.SessionSignal).SessionId),
        _ => null,
    };

    private static ScreenEvent Screen(SessionSignal signal) => new(null, signal.SessionId, signal.At ?? default);

    private static T Deserialize<T>(ReadOnlySpan<byte> data, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        JsonSerializer.Deserialize(data, type) ?? throw new JsonException("An event carried null data.");
}
