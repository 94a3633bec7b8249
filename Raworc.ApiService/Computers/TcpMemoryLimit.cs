using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Closes a live session whose computer holds more TCP buffers than <see cref="ComputerOptions.MaxTcpMemoryMiB"/>, never
/// deleting it, with a <c>system</c> message that says why (metadata
/// <c>{"type":"tcp_memory_limit","used_mib":…,"limit_mib":…}</c>). The close stops the computer, and with it every socket
/// and the memory they hold; its files stay, and a restore brings it back.
/// </summary>
/// <remarks>
/// The kernel's own bound (<see cref="ComputerOptions.TcpMemoryMiB"/>) gives each connection at least one packet's buffer
/// past it, so a computer opening thousands of connections and filling them passed it ten times over (a break-out
/// attempt, 2026-12-04); this is what stops that before the host's TCP budget, which every socket on the host shares, runs
/// out.
/// </remarks>
public sealed class TcpMemoryLimit(RaworcDbContext db, IComputerProvider computers, Conversation conversation,
    IOptions<ComputerOptions> options, ILogger<TcpMemoryLimit> logger)
{
    /// <summary>Measures every running computer once and closes the live sessions over the limit.</summary>
    /// <returns>The sessions closed.</returns>
    public async Task<IReadOnlyList<Guid>> CloseOverLimitAsync(CancellationToken cancellationToken)
    {
        var limitMiB = options.Value.MaxTcpMemoryMiB;
        if (limitMiB == 0)
        {
            return [];
        }
        var used = await computers.MeasureTcpMemoryAsync(cancellationToken);
        var over = used.Where(u => u.Value > limitMiB * 1024L * 1024L).Select(u => u.Key).ToList();
        if (over.Count == 0)
        {
            return [];
        }
        var closed = new List<Guid>();
        foreach (var id in await db.Sessions.LiveIdsAsync(over, cancellationToken))
        {
            using var activity = Platform.Telemetry.StartBackgroundWork("close session over its TCP memory", id);
            var usedMiB = used[id] / (1024 * 1024);
            var metadata = new JsonObject { ["type"] = "tcp_memory_limit", ["used_mib"] = usedMiB, ["limit_mib"] = limitMiB };
            var (result, _) = await conversation.AppendAsync(id, MessageRoles.System, Text(usedMiB, limitMiB), metadata,
                SessionEvent.Close, cancellationToken: cancellationToken);
            if (!result.IsApplied)
            {
                // Closed or deleted since it was measured.
                continue;
            }
            logger.LogWarning("Closed session {SessionId}: its computer held {UsedMiB} MiB of TCP buffers, over {LimitMiB} MiB", id, usedMiB, limitMiB);
            closed.Add(id);
        }
        return closed;
    }

    /// <summary>The <c>system</c> message of a session closed because its computer held <paramref name="usedMiB"/> MiB of TCP buffers.</summary>
    /// <param name="usedMiB">What it held, MiB (rounded down).</param>
    /// <param name="limitMiB">The limit (<see cref="ComputerOptions.MaxTcpMemoryMiB"/>).</param>
    public static string Text(long usedMiB, int limitMiB) =>
        $"The session was closed: its computer held {usedMiB} MiB of network buffers (data sent or received and not yet read), "
        + $"more than the limit of {limitMiB} MiB per session (Computers:MaxTcpMemoryMiB). Nothing was deleted; "
        + "a message or a restore starts a new computer.";
}
