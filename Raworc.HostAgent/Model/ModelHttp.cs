using System.Net;
using Polly;
using Polly.Retry;

namespace Raworc.HostAgent.Model;

/// <summary>
/// The HttpClient both provider protocols send through (<see cref="AnthropicChatClient"/>, <see cref="OpenAIChatClient"/>): a Polly retry with
/// exponential backoff and jitter on 408, 429, 5xx, connection failures and per-attempt timeouts, honouring
/// <c>Retry-After</c>; never on 401 or any other 4xx. Polly.Core alone, in a <see cref="DelegatingHandler"/>: the
/// agent has no <c>IHttpClientFactory</c> (Microsoft.Extensions.Http), whose handler pipeline and telemetry it would
/// carry in memory for one client.
/// </summary>
public static class ModelHttp
{
    /// <summary>The longest <c>Retry-After</c> honoured; a longer one waits this long instead of failing the turn at once.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(1);

    /// <summary>Creates the client; its own timeout is infinite because attempts are timed by the pipeline.</summary>
    /// <param name="options">Retry and timeout settings.</param>
    /// <param name="transport">
    /// The innermost handler, which the client then owns: the API's transport when calls go through the gateway
    /// (<see cref="Api.ApiTransport.CreateHandler(Api.AgentOptions)"/>); null for a plain <see cref="SocketsHttpHandler"/>.
    /// </param>
    public static HttpClient CreateClient(ModelOptions options, HttpMessageHandler? transport = null)
    {
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(0, options.MaxRetries),
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
                // A response that is retried is not returned: free its connection.
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
#pragma warning disable CA2000 // The HttpClient owns and disposes the handler chain.
        var handler = new RetryingHandler(pipeline) { InnerHandler = transport ?? new SocketsHttpHandler() };
#pragma warning restore CA2000
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or Polly.Timeout.TimeoutRejectedException } => true,
        { Result: { } response } => response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
            || (int)response.StatusCode >= 500,
        _ => false,
    };

    // The provider's Retry-After (seconds or a date), capped; null: the exponential backoff decides.
    private static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var delay = response?.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => (TimeSpan?)null,
        };
        return delay is null ? null : TimeSpan.FromTicks(Math.Clamp(delay.Value.Ticks, 0, MaxRetryAfter.Ticks));
    }

    /// <summary>Sends each request through the pipeline; a retried attempt sends the same request message again.</summary>
    private sealed class RetryingHandler(ResiliencePipeline<HttpResponseMessage> pipeline) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            await pipeline.ExecuteAsync(async (state, token) => await state.Handler.SendCoreAsync(state.Request, token),
                (Handler: this, Request: request), cancellationToken);

        private Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            base.SendAsync(request, cancellationToken);
    }
}
