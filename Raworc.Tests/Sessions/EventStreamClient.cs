using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;

namespace Raworc.Tests.Sessions;

/// <summary>One open <c>GET …/events</c> stream, read event by event with a timeout on every read.</summary>
public sealed class EventStreamClient : IAsyncDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(20);

    private readonly HttpResponseMessage _response;
    private readonly IAsyncEnumerator<SseItem<string>> _events;
    private readonly CancellationTokenSource _stop = new();

    private EventStreamClient(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _events = SseParser.Create(body).EnumerateAsync(_stop.Token).GetAsyncEnumerator(_stop.Token);
    }

    /// <summary>Opens the stream of <paramref name="session"/> (status 200 asserted), resuming after <paramref name="lastEventId"/> if given.</summary>
    public static async Task<EventStreamClient> OpenAsync(HttpClient client, string session, string? lastEventId = null, string query = "")
    {
        var response = await SendAsync(client, session, lastEventId, query);
        if (!response.IsSuccessStatusCode)
        {
            Assert.Fail($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new EventStreamClient(response, await response.Content.ReadAsStreamAsync());
    }

    /// <summary>Sends the request and returns as soon as the headers are in (the body is a stream).</summary>
    public static Task<HttpResponseMessage> SendAsync(HttpClient client, string session, string? lastEventId = null, string query = "")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v0/sessions/{session}/events{query}");
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }
        return client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(ReadTimeout);
    }

    /// <summary>The next event: type, id and data; fails the test when none comes in time.</summary>
    public async Task<(string Type, string Id, JsonObject Data)> NextAsync()
    {
        Assert.True(await _events.MoveNextAsync().AsTask().WaitAsync(ReadTimeout), "the stream ended");
        var item = _events.Current;
        return (item.EventType, item.EventId!, JsonNode.Parse(item.Data)!.AsObject());
    }

    /// <summary>True when the server ended the stream (no further event).</summary>
    public async Task<bool> EndedAsync() => !await _events.MoveNextAsync().AsTask().WaitAsync(ReadTimeout);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _response.Dispose();
        _stop.Dispose();
    }
}
