using System.Diagnostics;
using Raworc.Tests.Infrastructure;

namespace Raworc.Benchmarks;

/// <summary>Deletes every session the run created through the API and waits until their containers and volumes are gone.</summary>
internal static class Cleanup
{
    public static async Task<string> DeleteSessionsAsync(ComputersAppFixture fixture, BenchApi api, TimeSpan budget)
    {
        using var cts = new CancellationTokenSource(budget);
        var started = Stopwatch.GetTimestamp();
        var sessions = api.Created.Keys.ToList();
        var failed = new List<string>();
        foreach (var chunk in sessions.Chunk(8))
        {
            await Task.WhenAll(chunk.Select(async id =>
            {
                try
                {
                    await api.DeleteAsync(id, cts.Token);
                }
                catch (Exception ex)
                {
                    lock (failed)
                    {
                        failed.Add($"{id}: {ex.Message}");
                    }
                }
            }));
        }
        var left = sessions.ToList();
        while (left.Count > 0 && !cts.IsCancellationRequested)
        {
            var still = new List<Guid>();
            foreach (var id in left)
            {
                if (await fixture.Probe.InspectAsync(id) is not null || await fixture.Probe.VolumeExistsAsync(id))
                {
                    still.Add(id);
                }
            }
            left = still;
            if (left.Count > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None);
            }
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return failed.Count == 0 && left.Count == 0
            ? $"{sessions.Count} sessions deleted through the API; their containers and volumes were gone {seconds:0} s later."
            : $"{sessions.Count} sessions; {failed.Count} deletes failed ({string.Join("; ", failed.Take(3))}); " +
              $"{left.Count} still had a container or volume after {seconds:0} s (the fixture's disposal removes them).";
    }
}
