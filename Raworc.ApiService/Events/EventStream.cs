using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Raworc.ApiService.Messages;

namespace Raworc.ApiService.Events;

/// <summary>
/// The events of one stream: the stored events after its position (replayed), then each new one as it commits. A stream
/// registers for the session's wake-ups before every read and waits only when a read found nothing, so an event that
/// commits while a read runs wakes it again: nothing is missed, and since each read starts after the last event sent,
/// nothing is sent twice. When no wake-up comes for <see cref="HeartbeatInterval"/> it writes a heartbeat comment and
/// reads again (which also covers a wake-up Redis lost).
/// </summary>
public sealed class EventStream(EventFeed feed, MessageSignals signals, IHostApplicationLifetime lifetime, TimeProvider clock)
{
    /// <summary>Longest silence on a stream: then <c>: heartbeat</c> is written.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(15);

    /// <summary>Event types of the wire.</summary>
    public const string MessageEvent = "message", StateEvent = "state", ScreenEvent = "screen", DeletedEvent = "deleted";

    // System.Net.ServerSentEvents writes events only; a comment line is written between them, straight to the body.
    private static readonly byte[] Heartbeat = ": heartbeat\n\n"u8.ToArray();

    /// <summary>
    /// The events of <paramref name="sessionId"/> after position <paramref name="afterSeq"/>; ends after a <c>deleted</c>
    /// event, when the request is aborted, when the API stops (the client resumes elsewhere with its last id), or, for a
    /// caller who may read the session only because it is published, as soon as a read finds it unpublished (with no
    /// event: nothing that read found is sent, and a reconnect is refused with 404 when the stream is opened again).
    /// </summary>
    /// <param name="sessionId">The session (visibility already checked).</param>
    /// <param name="afterSeq">The position to start after.</param>
    /// <param name="live">True when nothing is replayed: <c>screen</c> events are sent from the start (else once caught up).</param>
    /// <param name="whilePublished">True when the caller reads the session only because it is published (not its owner,
    /// an admin or its Host).</param>
    /// <param name="response">The response, for the heartbeat comments.</param>
    /// <param name="cancellationToken">The request's abort token.</param>
    public async IAsyncEnumerable<SseItem<object>> ReadAsync(Guid sessionId, long afterSeq, bool live, bool whilePublished,
        HttpResponse response, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Headers go out at once, so a client knows the stream is open before the first event.
        await response.Body.FlushAsync(cancellationToken);
        var lastWrite = clock.GetTimestamp();
        var position = afterSeq;
        while (true)
        {
            EventBatch batch;
            using (var waiter = signals.RegisterForEvents(sessionId))
            {
                batch = await feed.ReadAsync(sessionId, position, feed.Mark(), cancellationToken);
                if (whilePublished && batch.SessionExists && !batch.IsPublished)
                {
                    // Unpublished: this reader may no longer see the session, nor anything the read found.
                    yield break;
                }
                if (batch.Events.Count == 0 && batch.SessionExists)
                {
                    live = true;
                    var quiet = HeartbeatInterval - clock.GetElapsedTime(lastWrite);
                    switch (await WaitAsync(waiter, quiet, cancellationToken))
                    {
                        case Wake.Stopping:
                            yield break;
                        case Wake.Heartbeat:
                            await response.Body.WriteAsync(Heartbeat, cancellationToken);
                            await response.Body.FlushAsync(cancellationToken);
                            lastWrite = clock.GetTimestamp();
                            break;
                    }
                    continue;
                }
            }
            if (!batch.SessionExists)
            {
                yield return new SseItem<object>(new DeletedEventData(sessionId), DeletedEvent) { EventId = Id(position) };
                yield break;
            }
            foreach (var row in batch.Events)
            {
                position = row.Seq;
                foreach (var item in ToItems(sessionId, row, live))
                {
                    yield return item;
                }
            }
            lastWrite = clock.GetTimestamp();
        }
    }

    private static IEnumerable<SseItem<object>> ToItems(Guid sessionId, EventRow row, bool live)
    {
        var id = Id(row.Seq);
        if (row.Kind == StateEvent)
        {
            // The stored wire JSON, as a node: serialised again it is the same object (a string would become a JSON string).
            yield return new SseItem<object>(JsonNode.Parse(row.Snapshot!)!, StateEvent) { EventId = id };
            yield break;
        }
        var metadata = JsonNode.Parse(row.Metadata!);
        yield return new SseItem<object>(new MessageResponse(row.Id!.Value, sessionId, row.Role!, row.Content!, metadata, row.At), MessageEvent)
        {
            EventId = id,
        };
        if (live && row.Role == MessageRoles.Host && metadata?["tool"] is JsonValue tool && tool.TryGetValue<string>(out var name) && name == "computer")
        {
            yield return new SseItem<object>(new ScreenEventData(sessionId, row.At), ScreenEvent) { EventId = id };
        }
    }

    private static string Id(long seq) => seq.ToString(CultureInfo.InvariantCulture);

    private enum Wake { Signalled, Heartbeat, Stopping }

    private async Task<Wake> WaitAsync(MessageSignals.Waiter waiter, TimeSpan timeout, CancellationToken requestAborted)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return Wake.Heartbeat;
        }
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping);
        try
        {
            await waiter.Signalled.WaitAsync(timeout, clock, stopping.Token);
            return Wake.Signalled;
        }
        catch (TimeoutException)
        {
            return Wake.Heartbeat;
        }
        catch (OperationCanceledException) when (!requestAborted.IsCancellationRequested)
        {
            return Wake.Stopping;
        }
    }
}
