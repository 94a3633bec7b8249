using System.Text;
using System.Text.RegularExpressions;
using Aspire.Hosting.Testing;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Platform;

/// <summary>
/// The log records the API exports over OTLP (to the Aspire dashboard, or a deployment's collector) carry no .NET type name
/// or stack trace either: OpenTelemetry attaches a logged exception's type, message and stack to its record, which the
/// console formatter's rule never reached. Runs on the computers' system, the one whose API exports to a receiver.
/// </summary>
[Collection(ComputersAppCollection.Name)]
[ComputerLane]
public sealed partial class ExportedLogHygieneTests(ComputersAppFixture fixture)
{
    // OpenTelemetry's attribute names for an exception's parts (semantic conventions), beside LogHygieneTests' patterns.
    [GeneratedRegex(@"exception\.(type|stacktrace|message)")]
    private static partial Regex ExceptionAttribute();

    [Fact]
    public async Task NoExportedLogRecordNamesADotNetTypeWhenTheDatabaseFails()
    {
        var (_, client) = await fixture.CreateOperatorAsync("otlplogs");
        using var _ = client;
        var session = await client.CreateSessionAsync();
        var path = $"/api/v0/sessions/{session.Id()}";

        // The database out of connections: EF Core and the exception handler log the failure with its exception.
        var held = await DatabaseExhaustionTests.TakeEveryConnectionAsync((await fixture.App.GetConnectionStringAsync(ResourceNames.Database))!);
        try
        {
            await (await client.GetAsync(path)).AssertErrorAsync(503, "SERVICE_UNAVAILABLE");
        }
        finally
        {
            await DatabaseExhaustionTests.ReleaseAsync(held);
        }

        // The failed request's own record is exported (the batch goes out within OTEL_BLRP_SCHEDULE_DELAY); every record
        // exported since the system started is read, whatever test made it.
        var failed = Encoding.UTF8.GetBytes($"Request GET {path} failed");
        await Waits.UntilAsync(() => Task.FromResult(fixture.Traces.LogExports.Any(body => body.AsSpan().IndexOf(failed) >= 0)),
            "the failed request's log record is exported", TimeSpan.FromSeconds(60));
        var named = fixture.Traces.LogExports
            .Select(body => Encoding.UTF8.GetString(body))
            .SelectMany(text => LogHygieneTests.TypeNameOrStackFrame().Matches(text).Concat(ExceptionAttribute().Matches(text)).Select(m => m.Value))
            .Distinct().ToList();
        Assert.True(named.Count == 0, "exported log records name: " + string.Join(", ", named.Take(40)));
    }
}
