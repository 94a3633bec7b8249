namespace Raworc;

/// <summary>
/// The Docker labels on the containers and volumes of session computers. One list, compiled into the API (which
/// writes them) and the AppHost (which finds the computers by them for the dashboard).
/// </summary>
internal static class ComputerLabels
{
    /// <summary>Set to <c>true</c> on every container and volume the platform creates.</summary>
    public const string Managed = "raworc.managed";

    /// <summary>The id of the deployment that owns the container or volume (12 hex characters, from its database).</summary>
    public const string Deployment = "raworc.deployment";

    /// <summary>The session's id ("D" format).</summary>
    public const string Session = "raworc.session-id";

    /// <summary>Set (value <c>copy</c>) on short-lived helper containers only; a session's computer has none.</summary>
    public const string Role = "raworc.role";

    /// <summary>
    /// On a session volume that is a filesystem of its own (value <c>ext4</c>): its size is held by the kernel, so the
    /// engine's measurement (which cannot see into it) leaves it out.
    /// </summary>
    public const string FileSystem = "raworc.filesystem";

    /// <summary>
    /// A Swarm node label, not a container's: the address of the node's own engine (<c>unix:///…</c> or
    /// <c>tcp://host:port</c>), through which the API reaches the node's volumes and containers and the AppHost its computers.
    /// </summary>
    public const string NodeEngine = "raworc.engine";
}
