using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Closes a live session whose computer holds too much of the host's network memory, never deleting it, with a
/// <c>system</c> message that says why: more socket buffers than <see cref="ComputerOptions.MaxTcpMemoryMiB"/> (metadata
/// <c>{"type":"tcp_memory_limit","used_mib":…,"limit_mib":…}</c>), more TCP sockets than
/// <see cref="ComputerOptions.MaxTcpSockets"/> (<c>{"type":"tcp_sockets_limit","tcp_sockets":…,"limit_tcp_sockets":…}</c>)
/// or more entries in its own connection-tracking table than <see cref="ComputerOptions.MaxTrackedConnections"/>
/// (<c>{"type":"tracked_connections_limit","tracked_connections":…,"limit_tracked_connections":…}</c>). The close stops
/// the computer, and with it every socket and the memory they hold; its files stay, and a restore brings it back.
/// </summary>
/// <remarks>
/// The kernel's own bound (<see cref="ComputerOptions.TcpMemoryMiB"/>) gives each connection at least one packet's buffer
/// past it, counts nothing of connections not yet accepted, and nothing bounds a namespace's tracked connections but the
/// host's table size: break-out attempts (2026-12-04 and 05) held 624 MiB, 930 MiB and ~64 MiB of kernel memory from one
/// computer that way. These readings stop that before the host's TCP budget, which every socket on it shares, runs out.
/// </remarks>
public sealed class NetworkUseLimit(RaworcDbContext db, IComputerProvider computers, Conversation conversation,
    IOptions<ComputerOptions> options, ILogger<NetworkUseLimit> logger)
{
    /// <summary>Measures every running computer once and closes the live sessions over a limit.</summary>
    /// <param name="listed">The computers as the engine listed them just before (the reconciler's pass).</param>
    /// <param name="cancellationToken">Cancels the measurement and the closes.</param>
    /// <returns>The sessions closed.</returns>
    public async Task<IReadOnlyList<Guid>> CloseOverLimitAsync(IReadOnlyList<ComputerInfo> listed, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings is { MaxTcpMemoryMiB: 0, MaxTcpSockets: 0, MaxTrackedConnections: 0 })
        {
            return [];
        }
        var over = (await computers.MeasureNetworkUseAsync(listed, cancellationToken))
            .Select(use => (Id: use.Key, Notice: Notice(use.Value, settings)))
            .Where(use => use.Notice is not null).ToDictionary(use => use.Id, use => use.Notice!.Value);
        if (over.Count == 0)
        {
            return [];
        }
        var closed = new List<Guid>();
        foreach (var id in await db.Sessions.LiveIdsAsync([.. over.Keys], cancellationToken))
        {
            using var activity = Platform.Telemetry.StartBackgroundWork("close session over its network use", id);
            var (text, metadata) = over[id];
            var (result, _) = await conversation.AppendAsync(id, MessageRoles.System, text, metadata, SessionEvent.Close,
                cancellationToken: cancellationToken);
            if (!result.IsApplied)
            {
                // Closed or deleted since it was measured.
                continue;
            }
            logger.LogWarning("Closed session {SessionId}: its computer was over a network limit ({Limit})", id, (string?)metadata["type"]);
            closed.Add(id);
        }
        return closed;
    }

    /// <summary>The <c>system</c> message for a computer over a limit (the first one it is over, in the order above), or null.</summary>
    private static (string Text, JsonObject Metadata)? Notice(NetworkUse use, ComputerOptions settings)
    {
        const long MiB = 1024 * 1024;
        if (settings.MaxTcpMemoryMiB > 0 && use.TcpBytes > settings.MaxTcpMemoryMiB * MiB)
        {
            return (Text(use.TcpBytes / MiB, settings.MaxTcpMemoryMiB),
                new JsonObject { ["type"] = "tcp_memory_limit", ["used_mib"] = use.TcpBytes / MiB, ["limit_mib"] = settings.MaxTcpMemoryMiB });
        }
        if (settings.MaxTcpSockets > 0 && use.TcpSockets > settings.MaxTcpSockets)
        {
            return (SocketsText(use.TcpSockets, settings.MaxTcpSockets),
                new JsonObject { ["type"] = "tcp_sockets_limit", ["tcp_sockets"] = use.TcpSockets, ["limit_tcp_sockets"] = settings.MaxTcpSockets });
        }
        if (settings.MaxTrackedConnections > 0 && use.TrackedConnections > settings.MaxTrackedConnections)
        {
            return (TrackedText(use.TrackedConnections, settings.MaxTrackedConnections),
                new JsonObject
                {
                    ["type"] = "tracked_connections_limit",
                    ["tracked_connections"] = use.TrackedConnections,
                    ["limit_tracked_connections"] = settings.MaxTrackedConnections,
                });
        }
        return null;
    }

    private const string After = " Nothing was deleted; a message or a restore starts a new computer.";

    /// <summary>The <c>system</c> message of a session closed because its computer held <paramref name="usedMiB"/> MiB of socket buffers.</summary>
    /// <param name="usedMiB">What it held, MiB (rounded down).</param>
    /// <param name="limitMiB">The limit (<see cref="ComputerOptions.MaxTcpMemoryMiB"/>).</param>
    public static string Text(long usedMiB, int limitMiB) =>
        $"The session was closed: its computer held {usedMiB} MiB of network buffers (data sent or received and not yet read), "
        + $"more than the limit of {limitMiB} MiB per session (Computers:MaxTcpMemoryMiB).{After}";

    /// <summary>The <c>system</c> message of a session closed because its computer had <paramref name="sockets"/> TCP sockets.</summary>
    /// <param name="sockets">The sockets counted.</param>
    /// <param name="limit">The limit (<see cref="ComputerOptions.MaxTcpSockets"/>).</param>
    public static string SocketsText(long sockets, int limit) =>
        $"The session was closed: its computer had {sockets} TCP sockets open, more than the limit of {limit} per session "
        + $"(Computers:MaxTcpSockets).{After}";

    /// <summary>The <c>system</c> message of a session closed because its computer tracked <paramref name="entries"/> connections.</summary>
    /// <param name="entries">The entries counted.</param>
    /// <param name="limit">The limit (<see cref="ComputerOptions.MaxTrackedConnections"/>).</param>
    public static string TrackedText(long entries, int limit) =>
        $"The session was closed: its computer's network tracked {entries} connections and exchanges, more than the limit of "
        + $"{limit} per session (Computers:MaxTrackedConnections).{After}";
}
