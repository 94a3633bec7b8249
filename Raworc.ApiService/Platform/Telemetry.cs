using System.Diagnostics;

namespace Raworc.ApiService.Platform;

/// <summary>
/// The API's own spans (source <see cref="SourceName"/>, registered by the service defaults as the application's name).
/// Background loops start one only when a tick found work, so an idle poll leaves no trace (its queries are dropped by
/// the service defaults' sampler, <c>QuietRootSampler</c>) and each unit of work is one trace with its queries inside.
/// </summary>
public static class Telemetry
{
    /// <summary>The activity source name: the API's application name.</summary>
    public const string SourceName = "Raworc.ApiService";

    /// <summary>Tag naming the session a span is about (a UUID).</summary>
    public const string SessionTag = "raworc.session_id";

    /// <summary>The source of the API's spans.</summary>
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// Starts the span of one unit of background work, never a child of whatever is current: the root of its own trace,
    /// or, given the W3C <c>traceparent</c> of the request that asked for the work (stored with a work item), a child of
    /// that request's span, so the request's trace holds the work done for it. Null when no one listens. Dispose it when
    /// the work ends.
    /// </summary>
    /// <param name="name">What is done, e.g. <c>close idle session</c>.</param>
    /// <param name="sessionId">The session it is done to, tagged <see cref="SessionTag"/>.</param>
    /// <param name="traceParent">The requesting span's <c>traceparent</c>, or null (or unparsable) for a trace of its own.</param>
    public static Activity? StartBackgroundWork(string name, Guid sessionId, string? traceParent = null)
    {
        var previous = Activity.Current;
        Activity.Current = null;
        var activity = ActivityContext.TryParse(traceParent, null, isRemote: true, out var parent)
            ? Source.StartActivity(name, ActivityKind.Internal, parent)
            : Source.StartActivity(name, ActivityKind.Internal);
        if (activity is null)
        {
            Activity.Current = previous;
            return null;
        }
        activity.SetTag(SessionTag, sessionId.ToString());
        return activity;
    }

    /// <summary>The current span's W3C <c>traceparent</c> when it is recorded (at most 55 characters), else null: what a row keeps so later work joins this trace.</summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C, Recorded: true } activity ? activity.Id : null;
}
