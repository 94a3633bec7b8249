using System.Text;
using System.Text.RegularExpressions;
using Aspire.Hosting.Testing;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Platform;

/// <summary>
/// No line of the API's log carries a .NET type name or a stack trace (the founders' brief), whoever writes it: Raworc's
/// own code, the framework, or a driver. The test makes the API fail in the ways a shared fixture allows, then reads every
/// line the API has written since it started (so whatever the collection's other tests made it log before is checked too).
/// </summary>
[Collection(RaworcAppCollection.Name)]
public sealed partial class LogHygieneTests(RaworcAppFixture fixture)
{
    // A .NET exception's type name (Npgsql.PostgresException, HttpRequestException …) or a stack frame ("   at Npgsql.…(").
    [GeneratedRegex(@"\b[A-Z][A-Za-z]*Exception\b|\bat [\w`<>]+(\.[\w`<>]+)+\(")]
    internal static partial Regex TypeNameOrStackFrame();

    [Fact]
    public async Task NoLineOfTheApisLogNamesADotNetTypeWhenItsDatabaseFails()
    {
        using var admin = await fixture.AdminClientAsync();
        var session = await admin.CreateSessionAsync();
        var path = $"/api/v0/sessions/{session.Id()}";
        // Bad input and a token that is not one: answered in the envelope, and whatever the framework logs of them is checked.
        using (var forged = fixture.CreateApiClient("not-a-token"))
        {
            await (await forged.GetAsync(path)).AssertErrorAsync(401, "UNAUTHORIZED");
        }
        using var broken = new StringContent("{\"content\": ", Encoding.UTF8, "application/json");
        await (await admin.PostAsync($"{path}/messages", broken)).AssertErrorAsync(400, "BAD_REQUEST");

        // The database out of connections: EF Core logs the failed statement, the exception handler the failed request.
        var held = await DatabaseExhaustionTests.TakeEveryConnectionAsync((await fixture.App.GetConnectionStringAsync(ResourceNames.Database))!);
        try
        {
            await (await admin.GetAsync(path)).AssertErrorAsync(503, "SERVICE_UNAVAILABLE");
        }
        finally
        {
            await DatabaseExhaustionTests.ReleaseAsync(held);
        }
        // The handler's line comes after every line of the failed request.
        var lines = await ApiConsoleLog.ReadThroughAsync(fixture.App, line => line.Contains($"Request GET {path} failed", StringComparison.Ordinal),
            TimeSpan.FromSeconds(60));

        var named = lines.Where(line => TypeNameOrStackFrame().IsMatch(line)).ToList();
        Assert.True(named.Count == 0, "lines of the API's log that name a .NET type or a stack frame:\n" + string.Join("\n", named.Take(40)));
        // In words: a pooled connection that Postgres ended answers 57P01 on its next use, a new one is refused with 53300.
        Assert.Matches($@"Request GET {Regex.Escape(path)} failed: Postgres (has no free connection \(53300\)|closed the connection \(57P01\))$",
            lines[^1]);
    }
}
