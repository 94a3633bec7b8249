using System.Runtime.CompilerServices;
using Raworc.Client.Models;

namespace Raworc.Client;

public sealed partial class RaworcClient
{
    /// <summary>
    /// Connects to <c>GET /sessions/{session}/events</c> and returns once the server has accepted the stream, so that
    /// whatever the caller does next (post a message) is in it. Without <paramref name="lastEventId"/> the stream starts
    /// with events after now; with one, every later event is replayed first. The stream reconnects by itself.
    /// </summary>
    /// <param name="session">The session's UUID or name.</param>
    /// <param name="lastEventId">An event id seen before (opaque), or null.</param>
    /// <param name="cancellationToken">Cancels connecting.</param>
    /// <exception cref="RaworcApiException">404 <c>NOT_FOUND</c> (no such session, or not visible), 400 (a malformed id), 401.</exception>
    public async Task<SessionEventStream> OpenEventsAsync(string session, string? lastEventId = null, CancellationToken cancellationToken = default)
    {
        var stream = new SessionEventStream(this, SessionPath(session) + "/events", lastEventId);
        await stream.ConnectAsync(cancellationToken);
        return stream;
    }

    /// <summary>
    /// The session's events until <paramref name="cancellationToken"/> is cancelled or the session is deleted (the
    /// <see cref="DeletedEvent"/> is the last one): <see cref="OpenEventsAsync"/> and <see cref="SessionEventStream.ReadAllAsync"/> in one.
    /// </summary>
    /// <param name="session">The session's UUID or name.</param>
    /// <param name="lastEventId">An event id seen before, or null for events after now.</param>
    /// <param name="cancellationToken">Ends the enumeration.</param>
    public async IAsyncEnumerable<SessionEvent> WatchEventsAsync(string session, string? lastEventId = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var stream = await OpenEventsAsync(session, lastEventId, cancellationToken);
        await foreach (var e in stream.ReadAllAsync(cancellationToken))
        {
            yield return e;
        }
    }

    /// <summary>Sends an event-stream request; the response's headers have been read and its status is a success.</summary>
    internal async Task<HttpResponseMessage> OpenStreamAsync(string path, string? lastEventId, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, path, null);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return response;
    }
}
