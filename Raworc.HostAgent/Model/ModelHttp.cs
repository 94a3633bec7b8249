using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Raworc.HostAgent.Model;

/// <summary>
/// The HttpClient both provider protocols send through (<see cref="AnthropicChatClient"/>, <see cref="OpenAIChatClient"/>): a Polly retry with
/// exponential backoff and jitter on 408, 429, 5xx, connection failures and per-attempt timeouts, honouring
/// <c>Retry-After</c>; never on 401 or any other 4xx.
/// </summary>
public static class ModelHttp
{
    /// <summary>Creates the client; its own timeout is infinite because attempts are timed by the pipeline.</summary>
    /// <param name="options">Retry and timeout settings.</param>
    /// <param name="transport">
    /// The innermost handler, which the client then owns: the API's transport when calls go through the gateway
    /// (<see cref="Api.ApiTransport.CreateHandler(Api.AgentOptions)"/>); null for a plain <see cref="SocketsHttpHandler"/>.
    /// </param>
    public static HttpClient CreateClient(ModelOptions options, HttpMessageHandler? transport = null)
    {
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(0, options.MaxRetries),
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
#pragma warning disable CA2000 // The HttpClient owns and disposes the handler chain.
        var handler = new ResilienceHandler(pipeline) { InnerHandler = transport ?? new SocketsHttpHandler() };
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
}
