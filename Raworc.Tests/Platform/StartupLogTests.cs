using System.Text.RegularExpressions;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Platform;

/// <summary>
/// A first start on an empty database logs no error: the fixture's Postgres has no volume, so its API migrates a fresh
/// database. (The dashboard shows an error badge on a resource for every error it logged.)
/// </summary>
[Collection(RaworcAppCollection.Name)]
public sealed partial class StartupLogTests(RaworcAppFixture fixture)
{
    // The console logger's level prefixes for Error and Critical, once its colour codes are taken out.
    [GeneratedRegex(@"(^|\s)(fail|crit): ")]
    private static partial Regex ErrorEntry();

    [GeneratedRegex(@"\x1B\[[0-9;]*m")]
    private static partial Regex Colours();

    [Fact]
    public async Task AFirstStartOnAnEmptyDatabaseLogsNoError()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var logs = fixture.App.Services.GetRequiredService<ResourceLoggerService>();
        var lines = new List<string>();
        // A watch replays the console log from the process's start (as the dashboard's console page does), then follows it.
        // Console logs are kept per instance ("api-x1y2z3"), not per resource name.
        var api = await fixture.App.ResourceNotifications.WaitForResourceAsync(ResourceNames.Api,
            e => e.Snapshot.State?.Text == KnownResourceStates.Running, timeout.Token);
        await foreach (var batch in logs.WatchAsync(api.ResourceId).WithCancellation(timeout.Token))
        {
            lines.AddRange(batch.Select(line => Colours().Replace(line.Content, "")));
            if (lines.Any(IsStarted))
            {
                break;
            }
        }
        // Up to the end of start-up; what the other tests of the collection make the API log comes after.
        var started = lines.FindIndex(IsStarted);

        var errors = lines.Take(started).Select((line, i) => (line, i)).Where(l => ErrorEntry().IsMatch(l.line))
            .Select(l => string.Join("\n", lines.Skip(l.i).Take(4))).ToList();
        Assert.True(errors.Count == 0, "errors logged at start-up:\n" + string.Join("\n---\n", errors));
    }

    private static bool IsStarted(string line) => line.Contains("Application started", StringComparison.Ordinal);
}
