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
    /// Starts the root span of one unit of background work (never a child of whatever is current: each unit is its own
    /// trace); null when no one listens. Dispose it when the work ends.
    /// </summary>
    /// <param name="name">What is done, e.g. <c>close idle session</c>.</param>
    /// <param name="sessionId">The session it is done to, tagged <see cref="SessionTag"/>.</param>
    public static Activity? StartBackgroundWork(string name, Guid sessionId)
    {
        var previous = Activity.Current;
        Activity.Current = null;
        var activity = Source.StartActivity(name, ActivityKind.Internal);
        if (activity is null)
        {
            Activity.Current = previous;
            return null;
        }
        activity.SetTag(SessionTag, sessionId.ToString());
        return activity;
    }
}
