using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Sessions;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Bounds the disk a session can take where the engine cannot (no per-container disk quota on overlay2 without xfs
/// project quotas): a live session whose volume is over <see cref="ComputerOptions.MaxVolumeMiB"/> is closed, never
/// deleted, with a <c>system</c> message that says why. Its files stay; a restore brings the computer back, and the
/// next measurement closes it again until the user has made room (say, by a remix without <c>data</c>).
/// </summary>
public sealed class VolumeLimit(RaworcDbContext db, IComputerProvider computers, Conversation conversation,
    IOptions<ComputerOptions> options, ILogger<VolumeLimit> logger)
{
    /// <summary>Measures every session volume once and closes the live sessions over the limit.</summary>
    /// <returns>The sessions closed.</returns>
    public async Task<IReadOnlyList<Guid>> CloseOversizedAsync(CancellationToken cancellationToken)
    {
        var limitMiB = options.Value.MaxVolumeMiB;
        var limit = limitMiB * 1024L * 1024L;
        // A volume the engine could not measure is closed too: else the session's code could make its own volume
        // unmeasurable (a folder nested past 4,096 characters of path does) and then fill the engine's disk.
        var over = (await computers.MeasureVolumesAsync(cancellationToken)).Where(pair => pair.Value > limit || pair.Value < 0).ToDictionary();
        if (over.Count == 0)
        {
            return [];
        }
        var ids = over.Keys.ToList();
        var live = await db.Sessions.LiveIdsAsync(ids, cancellationToken);
        var closed = new List<Guid>();
        foreach (var id in live)
        {
            using var activity = Platform.Telemetry.StartBackgroundWork("close oversized session", id);
            var measured = over[id] >= 0;
            var usedMiB = over[id] / (1024 * 1024);
            var text = measured
                ? $"The session was closed: its files take {usedMiB} MiB, more than the limit of {limitMiB} MiB per session "
                    + "(Computers:MaxVolumeMiB). Nothing was deleted; make room before working on, or remix it without the large folder."
                : UnmeasuredText(limitMiB);
            var metadata = measured
                ? new JsonObject { ["type"] = "volume_limit", ["used_mib"] = usedMiB, ["limit_mib"] = limitMiB }
                : new JsonObject { ["type"] = "volume_limit", ["measured"] = false, ["limit_mib"] = limitMiB };
            var (result, _) = await conversation.AppendAsync(id, MessageRoles.System, text, metadata, SessionEvent.Close,
                cancellationToken: cancellationToken);
            if (!result.IsApplied)
            {
                // Closed or deleted since it was read.
                continue;
            }
            if (measured)
            {
                logger.LogWarning("Closed session {SessionId}: its volume takes {UsedMiB} MiB, over {LimitMiB} MiB", id, usedMiB, limitMiB);
            }
            else
            {
                logger.LogWarning("Closed session {SessionId}: the engine could not measure its volume", id);
            }
            closed.Add(id);
        }
        return closed;
    }

    /// <summary>The <c>system</c> message of a session closed because the engine could not measure its volume.</summary>
    /// <param name="limitMiB">The limit, MiB.</param>
    public static string UnmeasuredText(int limitMiB) =>
        $"The session was closed: the engine could not measure its files (a folder nested so deep that a path is longer than "
        + $"4,096 characters does that), so the limit of {limitMiB} MiB per session (Computers:MaxVolumeMiB) could not be checked. "
        + "Nothing was deleted; remix it without that folder, or restore it and remove the folder at once.";
}
