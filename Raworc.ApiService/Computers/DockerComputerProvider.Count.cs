using System.Globalization;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Raworc.ApiService.Computers;

public sealed partial class DockerComputerProvider
{
    /// <summary>Value of <see cref="RoleLabel"/> on the helper container that counts volumes.</summary>
    public const string CountRole = "count";

    /// <summary>Seconds one <c>du</c> walk of one volume may take in the counting helper; a slower walk counts as unmeasured.</summary>
    private const int CountSecondsPerWalk = 30;

    /// <summary>How long the counting helper may run in all; volumes it did not reach by then are not judged this round.</summary>
    private static readonly TimeSpan CountTimeout = TimeSpan.FromMinutes(2);

    // Runs as root with CAP_DAC_READ_SEARCH only (it reads every folder, whatever modes the session's code set), each volume
    // read-only at /volumes/<session id>. du never follows links and -x keeps it on the volume; it counts a file with
    // several hard links once. It prints "<id> <inodes> <bytes>", "-" for a walk that did not finish in time: du's
    // complaints about files that vanished during the walk still leave it a total.
    private const string CountScript = """
        cd /volumes
        for id in *; do
          inodes=$(timeout -s KILL "$RAWORC_COUNT_SECONDS" du -sx --inodes "$id" 2>/dev/null | cut -f1)
          bytes=$(timeout -s KILL "$RAWORC_COUNT_SECONDS" du -sxB1 "$id" 2>/dev/null | cut -f1)
          echo "$id ${inodes:--} ${bytes:--}"
        done
        """;

    /// <inheritdoc />
    /// <remarks>
    /// One short-lived helper container (<see cref="RunHelperContainerAsync"/>: the computers' image, Docker's default runtime,
    /// no network, read-only root, the computers' CPU and memory limits, 64 processes) mounts every given volume read-only
    /// and runs <c>du</c> twice on each: the inodes, and the bytes of the blocks the files and folders take. The session's
    /// code cannot reach the helper (another container) nor change what it prints.
    /// </remarks>
    public async Task<IReadOnlyDictionary<Guid, VolumeCount>> CountVolumesAsync(IReadOnlyCollection<Guid> sessionIds, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<Guid, VolumeCount>();
        if (sessionIds.Count == 0)
        {
            return counts;
        }
        var labels = new Dictionary<string, string> { [ManagedLabel] = "true", [RoleLabel] = CountRole };
        if (options.Value.Deployment is { Length: > 0 } deployment)
        {
            labels[DeploymentLabel] = deployment;
        }
        // A helper left by an earlier run of this deployment (the API stopped during a count) holds volumes: it goes first.
        foreach (var stale in await ListLabelledAsync($"{RoleLabel}={CountRole}", cancellationToken))
        {
            if ((stale.Labels.TryGetValue(DeploymentLabel, out var owner) ? owner : null) == labels.GetValueOrDefault(DeploymentLabel))
            {
                await RemoveContainerAsync(stale.ID, cancellationToken);
            }
        }

        try
        {
            // A volume deleted since it was listed would be made again, empty, by the mount: with the session's labels,
            // so the reconciler removes it like any volume whose session is gone.
            var run = await RunHelperContainerAsync($"raworc-count-{Guid.NewGuid():N}", labels, CountScript,
                [$"RAWORC_COUNT_SECONDS={CountSecondsPerWalk.ToString(CultureInfo.InvariantCulture)}"], ["DAC_READ_SEARCH"],
                [.. sessionIds.Select(id => new Mount
                {
                    Type = "volume",
                    Source = NameOf(id),
                    Target = $"/volumes/{id:D}",
                    ReadOnly = true,
                    VolumeOptions = new VolumeOptions { Labels = Labels(id), NoCopy = true },
                })],
                // Killed at the limit, what it printed so far still counts; the rest waits for the next round.
                CountTimeout, readOutput: true, cancellationToken);
            var asked = sessionIds.ToHashSet();
            foreach (var line in run.Output!.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var fields = line.Split(' ');
                if (fields.Length == 3 && Guid.TryParse(fields[0], out var id) && asked.Contains(id))
                {
                    counts[id] = new VolumeCount(Figure(fields[1]), Figure(fields[2]));
                }
            }
            return counts;
        }
        catch (DockerContainerNotFoundException)
        {
            // Removed under it: a delete takes away every container that holds the session's volume.
            return counts;
        }

        static long Figure(string text) =>
            long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var figure) ? figure : -1;
    }
}
