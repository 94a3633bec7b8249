using System.Text.RegularExpressions;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace Raworc.Tests.Infrastructure;

/// <summary>The API process's console log, as the dashboard's console page shows it (colour codes taken out).</summary>
public static partial class ApiConsoleLog
{
    [GeneratedRegex(@"\x1B\[[0-9;]*m")]
    private static partial Regex Colours();

    /// <summary>
    /// Every line the API has written since its process started, up to and including the first line for which
    /// <paramref name="last"/> holds (a watch replays the log from the start, then follows it).
    /// </summary>
    /// <exception cref="OperationCanceledException">No such line within <paramref name="timeout"/>.</exception>
    public static async Task<List<string>> ReadThroughAsync(DistributedApplication app, Func<string, bool> last, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var logs = app.Services.GetRequiredService<ResourceLoggerService>();
        // Console logs are kept per instance ("api-x1y2z3"), not per resource name.
        var api = await app.ResourceNotifications.WaitForResourceAsync(ResourceNames.Api,
            e => e.Snapshot.State?.Text == KnownResourceStates.Running, cancel.Token);
        var lines = new List<string>();
        await foreach (var batch in logs.WatchAsync(api.ResourceId).WithCancellation(cancel.Token))
        {
            foreach (var line in batch.Select(line => Colours().Replace(line.Content, "")))
            {
                lines.Add(line);
                if (last(line))
                {
                    return lines;
                }
            }
        }
        throw new OperationCanceledException("The API's log ended before the line looked for.");
    }
}
