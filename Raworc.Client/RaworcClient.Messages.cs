using System.Globalization;
using System.Text.Json.Nodes;
using Polly;
using Polly.Retry;
using Raworc.Client.Models;

namespace Raworc.Client;

public sealed partial class RaworcClient
{
    /// <summary>The request header that carries a message post's idempotency key (the IETF httpapi draft's name).</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>
    /// How many times <see cref="PostMessageAsync"/> posts again after a transient failure (the connection failed or
    /// dropped, or the API answered 5xx), each time with the same <see cref="IdempotencyKeyHeader"/>: a post that was
    /// stored before its answer was lost is answered with the stored message, never stored twice.
    /// </summary>
    public const int MessagePostRetries = 2;

    /// <summary>
    /// The first wait before posting a message again (then doubled, with jitter); 200 ms unless set. Set it before the
    /// first post.
    /// </summary>
    public TimeSpan MessagePostRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    private ResiliencePipeline? _messagePostRetry;

    /// <summary>
    /// <c>POST /sessions/{session}/messages</c> → the stored user message. A closed or errored session restores itself
    /// and the Host answers once it is up; the call returns at once. Content outside 1…100,000 characters: 422.
    /// A transient failure is retried (<see cref="MessagePostRetries"/>) with the same idempotency key.
    /// </summary>
    /// <param name="session">The session's UUID or name.</param>
    /// <param name="content">The text.</param>
    /// <param name="metadata">An optional JSON object stored with it.</param>
    /// <param name="idempotencyKey">
    /// 1–255 visible ASCII characters naming this post (another is a 422), or null for a new random one. Pass the same key
    /// when posting the same message again yourself (after this call threw): the API then answers the message it stored.
    /// </param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<Message> PostMessageAsync(string session, string content, JsonObject? metadata = null, string? idempotencyKey = null,
        CancellationToken cancellationToken = default)
    {
        var key = idempotencyKey ?? Guid.NewGuid().ToString("N");
        var body = new PostMessageBody(content, metadata);
        _messagePostRetry ??= new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = MessagePostRetries,
                Delay = MessagePostRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                // A 4xx would answer the same again; a cancelled call is not retried.
                ShouldHandle = new PredicateBuilder()
                    .Handle<HttpRequestException>()
                    .Handle<RaworcApiException>(ex => (int)ex.Status >= 500),
            })
            .Build();
        return await _messagePostRetry.ExecuteAsync(async token =>
        {
            using var request = Request(HttpMethod.Post, SessionPath(session) + "/messages", Body(body, WireJson.Default.PostMessageBody));
            request.Headers.Add(IdempotencyKeyHeader, key);
            using var response = await _http.SendAsync(request, token);
            await EnsureSuccessAsync(response, token);
            return await ReadAsync(response, WireJson.Default.Message, token);
        }, cancellationToken);
    }

    /// <summary>
    /// <c>GET /sessions/{session}/messages</c>, oldest first. With <paramref name="after"/> only later messages; with
    /// <paramref name="waitSeconds"/> (0…30) the call is held until one exists or the time is up (then empty).
    /// </summary>
    /// <param name="session">The session's UUID or name.</param>
    /// <param name="after">A message id, or null.</param>
    /// <param name="waitSeconds">Long-poll time, seconds, or null.</param>
    /// <param name="limit">Page size, 1…1000.</param>
    /// <param name="offset">Messages to skip.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<Message>> ListMessagesAsync(string session, Guid? after = null, int? waitSeconds = null, int? limit = null,
        int? offset = null, CancellationToken cancellationToken = default)
    {
        var query = Query(("after", after?.ToString()), ("wait", waitSeconds?.ToString(CultureInfo.InvariantCulture)),
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("offset", offset?.ToString(CultureInfo.InvariantCulture)));
        return await SendAsync(HttpMethod.Get, SessionPath(session) + "/messages" + query, null, WireJson.Default.ListMessage, cancellationToken);
    }

    /// <summary><c>GET /sessions/{session}/messages/count</c>: how many messages the session has.</summary>
    /// <param name="session">The session's UUID or name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<int> CountMessagesAsync(string session, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, SessionPath(session) + "/messages/count", null, WireJson.Default.MessageCount, cancellationToken)).Count;
}
