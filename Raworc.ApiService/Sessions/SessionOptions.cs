using System.ComponentModel.DataAnnotations;

namespace Raworc.ApiService.Sessions;

/// <summary>Settings of sessions, bound from the configuration section <c>Sessions</c>.</summary>
public sealed class SessionOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Sessions";

    /// <summary>
    /// Most live sessions (<c>init</c>, <c>idle</c> or <c>busy</c>) one owner (an operator or a token user) may have at
    /// once; 0 means no limit. Creating, restoring or remixing past it is a 409 <c>CONFLICT</c> (see <see cref="SessionQuotas"/>).
    /// </summary>
    [Range(0, 1_000_000)]
    public int MaxPerOperator { get; set; } = 100;

    /// <summary>
    /// Most MiB of the host's disk one owner's sessions may hold (every state: closed and errored sessions keep their
    /// files) before it may start another; 0 means no limit. Creating, restoring or remixing while the owner's volume
    /// filesystems hold this much or more is a 409 <c>CONFLICT</c> (see <see cref="SessionQuotas"/>). Counted from the
    /// filesystems' files (<c>Computers:VolumeFileSystems</c>, what they hold now); measured engine volumes (volume
    /// filesystems off, the Swarm provider) count nothing. A live session can still grow to <c>Computers:MaxVolumeMiB</c>
    /// after the check, so an owner holds at most this plus that per live session. Default 51,200 (50 GiB).
    /// </summary>
    [Range(0, int.MaxValue)]
    public int MaxDiskMiBPerOperator { get; set; } = 51_200;

    /// <summary>
    /// Seconds a busy session may go without a sign of life from its Host (the agent repeats <c>POST /busy</c> every 15 s
    /// during a turn, and each of its messages counts) before the turn is ended: the session becomes <c>idle</c> with a
    /// <c>system</c> message of type <c>turn_ended</c>. Checked every few seconds by <see cref="TurnSweeper"/>.
    /// </summary>
    [Range(1, 86_400)]
    public int BusyHeartbeatSeconds { get; set; } = 60;
}
