using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
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
        var over = (await computers.MeasureVolumesAsync(cancellationToken)).Where(pair => pair.Value > limit).ToDictionary();
        if (over.Count == 0)
        {
            return [];
        }
        var ids = over.Keys.ToList();
        var live = await db.Sessions.AsNoTracking()
            .Where(s => ids.Contains(s.Id) && (s.State == SessionStates.Init || s.State == SessionStates.Idle || s.State == SessionStates.Busy))
            .Select(s => s.Id).ToListAsync(cancellationToken);
        var closed = new List<Guid>();
        foreach (var id in live)
        {
            using var activity = Platform.Telemetry.StartBackgroundWork("close oversized session", id);
            var usedMiB = over[id] / (1024 * 1024);
            var text = $"The session was closed: its files take {usedMiB} MiB, more than the limit of {limitMiB} MiB per session "
                + "(Computers:MaxVolumeMiB). Nothing was deleted; make room before working on, or remix it without the large folder.";
            var (result, _) = await conversation.AppendAsync(id, MessageRoles.System, text,
                new JsonObject { ["type"] = "volume_limit", ["used_mib"] = usedMiB, ["limit_mib"] = limitMiB }, SessionEvent.Close,
                cancellationToken: cancellationToken);
            if (!result.IsApplied)
            {
                // Closed or deleted since it was read.
                continue;
            }
            logger.LogWarning("Closed session {SessionId}: its volume takes {UsedMiB} MiB, over {LimitMiB} MiB", id, usedMiB, limitMiB);
            closed.Add(id);
        }
        return closed;
    }
}
