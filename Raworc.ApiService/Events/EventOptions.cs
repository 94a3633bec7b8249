using System.ComponentModel.DataAnnotations;

namespace Raworc.ApiService.Events;

/// <summary>Settings of the session event streams' stored state changes, bound from the configuration section <c>Events</c>.</summary>
public sealed class EventOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Events";

    /// <summary>
    /// Days every state change of a session is kept (default 7). Of the older ones only each session's last is kept (the
    /// state the session was in when the window began), so a stream resumed from an id older than this still replays every
    /// message and ends in the right state, without the states that were superseded before the window.
    /// </summary>
    [Range(1, 3650)]
    public int StateChangeRetentionDays { get; set; } = 7;

    /// <summary>How often old state changes are pruned, seconds (default 600).</summary>
    [Range(1, 86_400)]
    public int PruneIntervalSeconds { get; set; } = 600;
}
