using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Raworc.ApiService.Webhooks;

/// <summary>What one round of a delivery did: whether the receiver took it, and every HTTP attempt made.</summary>
/// <param name="Delivered">The last attempt was answered 2xx.</param>
/// <param name="Attempts">The attempts, oldest first (at least one).</param>
public sealed record SendResult(bool Delivered, IReadOnlyList<WebhookAttempt> Attempts);

/// <summary>
/// Sends one round of a delivery: a signed <c>POST</c> (see <see cref="WebhookSignature"/>), retried at once on failure by
/// a Polly pipeline (<see cref="WebhookOptions.ImmediateRetries"/>, exponential with jitter; each attempt has
/// <see cref="WebhookOptions.TimeoutSeconds"/>). Any answer other than 2xx is a failure, a redirect included: redirects
/// are never followed, so a receiver cannot bounce the request to an address it may not reach. Every connection is made
/// by <see cref="ConnectAsync"/>, which resolves the name itself and connects only to allowed addresses
/// (<see cref="WebhookTargets"/>), so a name that resolves to a private address at send time is refused too. No proxy.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    private readonly HttpClient _client;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly WebhookOptions _options;
    private readonly TimeProvider _clock;

    /// <summary>Builds the client and the pipeline from the settings.</summary>
    public WebhookSender(IOptions<WebhookOptions> options, TimeProvider clock)
    {
        _options = options.Value;
        _clock = clock;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = ConnectAsync,
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("Raworc-Webhooks/0");

        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (_options.ImmediateRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = _options.ImmediateRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(_options.ImmediateRetryDelayMilliseconds),
                // A refused target stays refused; anything else (no answer, timeout, non-2xx) may pass.
                ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
                {
                    { Exception: TimeoutRejectedException } => true,
                    { Exception: HttpRequestException { InnerException: RefusedTargetException } } => false,
                    { Exception: HttpRequestException } => true,
                    { Result: { IsSuccessStatusCode: false } } => true,
                    _ => false,
                }),
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return default;
                },
            });
        }
        _pipeline = builder.AddTimeout(TimeSpan.FromSeconds(_options.TimeoutSeconds)).Build();
    }

    /// <summary>Sends <paramref name="delivery"/>'s payload to <paramref name="url"/>, signed with <paramref name="secret"/>.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (shutting down).</exception>
    public async Task<SendResult> SendAsync(string url, string secret, WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var attempts = new List<WebhookAttempt>();
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            using var response = await _pipeline.ExecuteAsync(
                async (ctx, _) => await AttemptAsync(url, secret, delivery, attempts, ctx.CancellationToken, cancellationToken), context, 0);
            return new SendResult(response.IsSuccessStatusCode, attempts);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is HttpRequestException or TimeoutRejectedException)
        {
            return new SendResult(false, attempts);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async Task<HttpResponseMessage> AttemptAsync(string url, string secret, WebhookDelivery delivery, List<WebhookAttempt> attempts,
        CancellationToken attemptToken, CancellationToken stopping)
    {
        var started = _clock.GetUtcNow();
        var watch = Stopwatch.StartNew();
        var attempt = new WebhookAttempt { DeliveryId = delivery.Id, AttemptedAt = started };
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(secret, _clock.GetUtcNow(), delivery.Payload));
            request.Headers.Add(WebhookSignature.EventIdHeader, delivery.EventId.ToString());
            request.Headers.Add(WebhookSignature.EventTypeHeader, delivery.EventType);
            var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attemptToken);
            attempt.StatusCode = (int)response.StatusCode;
            attempt.Error = response.IsSuccessStatusCode ? null
                : (int)response.StatusCode is >= 300 and < 400 ? $"HTTP {(int)response.StatusCode} (redirects are not followed)"
                : $"HTTP {(int)response.StatusCode}";
            return response;
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            attempt.Error = $"timed out after {_options.TimeoutSeconds} s";
            throw;
        }
        catch (HttpRequestException ex)
        {
            attempt.Error = Describe(ex);
            throw;
        }
        finally
        {
            attempt.DurationMs = (int)Math.Min(int.MaxValue, watch.ElapsedMilliseconds);
            if (!stopping.IsCancellationRequested)
            {
                attempts.Add(attempt);
            }
        }
    }

    /// <summary>A short reason for a failed request, without exception text.</summary>
    private static string Describe(HttpRequestException ex) => ex switch
    {
        { InnerException: RefusedTargetException refused } => refused.Message,
        { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused } } => "connection refused",
        { HttpRequestError: HttpRequestError.NameResolutionError } => "the host name did not resolve",
        { HttpRequestError: HttpRequestError.SecureConnectionError } => "TLS handshake failed",
        { HttpRequestError: HttpRequestError.ConnectionError } => "could not connect",
        _ => $"request failed ({ex.HttpRequestError})",
    };

    /// <summary>
    /// Opens every connection: resolves the host, keeps only allowed addresses, connects to one of them and checks the
    /// address actually connected to.
    /// </summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = _options.AllowPrivateTargets ? addresses : addresses.Where(a => WebhookTargets.Refusal(a) is null).ToArray();
        if (allowed.Length == 0)
        {
            throw new RefusedTargetException(addresses.Length == 0 ? "the host name did not resolve"
                : $"refused target: {host} is a {WebhookTargets.Refusal(addresses[0])} address");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            if (!_options.AllowPrivateTargets && socket.RemoteEndPoint is IPEndPoint remote && WebhookTargets.Refusal(remote.Address) is { } why)
            {
                throw new RefusedTargetException($"refused target: {host} connected to a {why} address");
            }
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _client.Dispose();

    /// <summary>A connection refused by the target rules; its message is safe to show (it is stored as the attempt's error).</summary>
    private sealed class RefusedTargetException(string message) : Exception(message);
}
