namespace Raworc.HostAgent.Api;

/// <summary>
/// Puts a turn into the trace of the message it answers. The agent exports no telemetry of its own; instead, while a turn
/// runs, every call it makes to the API (busy and idle, the model gateway, tool and answer messages) carries the W3C
/// <c>traceparent</c> of the user message's request (<see cref="SessionMessage.TraceParent"/>), so the API records each
/// call as a child of that request's span: one message, one trace.
/// </summary>
public static class TurnTrace
{
    /// <summary>The header W3C Trace Context names.</summary>
    public const string Header = "traceparent";

    private static readonly AsyncLocal<string?> Current = new();

    /// <summary>
    /// Sends <paramref name="traceParent"/> on the API calls of the current flow (and of the tasks it starts) until the
    /// result is disposed. Null sends none.
    /// </summary>
    public static IDisposable Begin(string? traceParent)
    {
        Current.Value = traceParent;
        return new Scope();
    }

    /// <summary>A handler that adds the current turn's <c>traceparent</c> to requests that carry none.</summary>
    public sealed class Handler : DelegatingHandler
    {
        /// <summary>A handler that adds the header, then sends through <paramref name="inner"/> (the API's transport).</summary>
        public Handler(HttpMessageHandler inner) : base(inner)
        {
        }

        /// <inheritdoc />
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Current.Value is { Length: > 0 } traceParent && !request.Headers.Contains(Header))
            {
                request.Headers.TryAddWithoutValidation(Header, traceParent);
            }
            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class Scope : IDisposable
    {
        public void Dispose() => Current.Value = null;
    }
}
