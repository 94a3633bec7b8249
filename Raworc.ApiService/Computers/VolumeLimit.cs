using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Bounds the disk a session can take where the engine cannot (no per-container disk quota on overlay2 without xfs
/// project quotas): a live session whose volume is over <see cref="ComputerOptions.MaxVolumeMiB"/> or holds more than
/// <see cref="ComputerOptions.MaxVolumeInodes"/> inodes is closed, never deleted, with a <c>system</c> message that says
/// why. Its files stay; a restore brings the computer back, and the next measurement closes it again until the user has
/// made room (say, by a remix without <c>data</c>).
/// </summary>
/// <remarks>
/// A volume's size is the larger of the engine's figure (the files' apparent sizes: a sparse file counts in full) and
/// the bytes of the blocks its files and folders take (<see cref="IComputerProvider.CountVolumesAsync"/>): the engine
/// counts a folder or an empty file as 0 bytes and a 1-byte file as 1, whatever they take on the disk.
/// </remarks>
public sealed class VolumeLimit(RaworcDbContext db, IComputerProvider computers, Conversation conversation,
    IOptions<ComputerOptions> options, ILogger<VolumeLimit> logger)
{
    /// <summary>Measures every session volume once and closes the live sessions over a limit.</summary>
    /// <returns>The sessions closed.</returns>
    public async Task<IReadOnlyList<Guid>> CloseOversizedAsync(CancellationToken cancellationToken)
    {
        var limitMiB = options.Value.MaxVolumeMiB;
        var limit = limitMiB * 1024L * 1024L;
        var maxInodes = options.Value.MaxVolumeInodes;
        // Only a live session is ever closed: with none, the engine's disk-usage walk (every image, container layer and
        // volume it holds) and the counting helper would be work for nothing, every VolumeCheckSeconds of an idle deployment.
        if (!await db.Sessions.AnyAsync(s => SessionQuotas.LiveStates.Contains(s.State), cancellationToken))
        {
            return [];
        }
        var sizes = await computers.MeasureVolumesAsync(cancellationToken);
        if (sizes.Count == 0)
        {
            return [];
        }
        var live = await db.Sessions.LiveIdsAsync([.. sizes.Keys], cancellationToken);
        var counts = await computers.CountVolumesAsync(live, cancellationToken);
        var closed = new List<Guid>();
        foreach (var id in live)
        {
            var count = counts.GetValueOrDefault(id);
            var usedBytes = Math.Max(sizes[id], count?.Bytes ?? 0);
            // A volume that could not be measured is closed too: else the session's code could make its own volume
            // unmeasurable (a folder nested past 4,096 characters of path does, for the engine) and then fill the disk.
            var measured = !(limitMiB > 0 && sizes[id] < 0) && count is not ({ Inodes: < 0 } or { Bytes: < 0 });
            var overBytes = limitMiB > 0 && usedBytes > limit;
            var overInodes = maxInodes > 0 && count?.Inodes > maxInodes;
            if (measured && !overBytes && !overInodes)
            {
                continue;
            }
            using var activity = Platform.Telemetry.StartBackgroundWork("close oversized session", id);
            var usedMiB = usedBytes / (1024 * 1024);
            var (text, metadata) = !measured
                ? (UnmeasuredText(limitMiB), new JsonObject { ["type"] = "volume_limit", ["measured"] = false, ["limit_mib"] = limitMiB })
                : overBytes
                    ? ($"The session was closed: its files take {usedMiB} MiB, more than the limit of {limitMiB} MiB per session "
                        + "(Computers:MaxVolumeMiB). Nothing was deleted; make room before working on, or remix it without the large folder.",
                        new JsonObject { ["type"] = "volume_limit", ["used_mib"] = usedMiB, ["limit_mib"] = limitMiB })
                    : (InodesText(count!.Inodes, maxInodes),
                        new JsonObject { ["type"] = "volume_limit", ["inodes"] = count.Inodes, ["limit_inodes"] = maxInodes });
            var (result, _) = await conversation.AppendAsync(id, MessageRoles.System, text, metadata, SessionEvent.Close,
                cancellationToken: cancellationToken);
            if (!result.IsApplied)
            {
                // Closed or deleted since it was read.
                continue;
            }
            if (!measured)
            {
                logger.LogWarning("Closed session {SessionId}: its volume could not be measured", id);
            }
            else if (overBytes)
            {
                logger.LogWarning("Closed session {SessionId}: its volume takes {UsedMiB} MiB, over {LimitMiB} MiB", id, usedMiB, limitMiB);
            }
            else
            {
                logger.LogWarning("Closed session {SessionId}: its volume holds {Inodes} inodes, over {LimitInodes}", id, count!.Inodes, maxInodes);
            }
            closed.Add(id);
        }
        return closed;
    }

    /// <summary>The <c>system</c> message of a session closed because its volume holds more than <paramref name="limit"/> inodes.</summary>
    /// <param name="inodes">The inodes counted.</param>
    /// <param name="limit">The limit (<see cref="ComputerOptions.MaxVolumeInodes"/>).</param>
    public static string InodesText(long inodes, int limit) =>
        $"The session was closed: its volume holds {inodes} files, folders and links, more than the limit of {limit} per session "
        + "(Computers:MaxVolumeInodes). Nothing was deleted; make room before working on, or remix it without the crowded folder.";

    /// <summary>The <c>system</c> message of a session closed because the engine could not measure its volume.</summary>
    /// <param name="limitMiB">The limit, MiB.</param>
    public static string UnmeasuredText(int limitMiB) =>
        $"The session was closed: the engine could not measure its files (a folder nested so deep that a path is longer than "
        + $"4,096 characters does that), so the limit of {limitMiB} MiB per session (Computers:MaxVolumeMiB) could not be checked. "
        + "Nothing was deleted; remix it without that folder, or restore it and remove the folder at once.";
}
