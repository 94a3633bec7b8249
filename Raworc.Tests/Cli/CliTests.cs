using System.Text.Json.Nodes;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Cli;

/// <summary><c>raworc</c> against the real AppHost (no computers: sessions stay in <c>init</c> until closed).</summary>
[Collection(RaworcAppCollection.Name)]
public sealed class CliTests(RaworcAppFixture fixture) : IDisposable
{
    private readonly CliRun _cli = new();

    private string Url => fixture.CreateApiClient().BaseAddress!.ToString().TrimEnd('/');

    private async Task<string> LoggedInOperatorAsync()
    {
        var (name, client) = await fixture.CreateOperatorAsync("cli", pass: "cli-password-1");
        client.Dispose();
        var login = await _cli.RunAsync(["login", "--url", Url, "--user", name, "--pass", "cli-password-1"]);
        Assert.Equal(0, login.ExitCode);
        return name;
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task LoginStoresTheTokenInAFileOnlyTheOwnerCanRead()
    {
        var (name, client) = await fixture.CreateOperatorAsync("cli", pass: "cli-password-1");
        client.Dispose();

        var login = await _cli.RunAsync(["login", "--url", Url, "--user", name], input: "cli-password-1\n");

        Assert.Equal(0, login.ExitCode);
        Assert.StartsWith($"Logged in to {Url} as {name} (user); the token is valid until ", login.Out);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_cli.ConfigPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(_cli.ConfigPath)!));
        var config = JsonNode.Parse(await File.ReadAllTextAsync(_cli.ConfigPath))!.AsObject();
        Assert.Equal((Url, name), ((string?)config["url"], (string?)config["user"]));
        using var withStoredToken = fixture.CreateApiClient((string)config["token"]!);
        Assert.Equal(name, (string?)(await (await withStoredToken.GetAsync("/api/v0/auth")).ReadObjectAsync())["user"]);
    }

    [Fact]
    public async Task LoginTakesThePasswordFromTheEnvironmentAndAWrongOneKeepsTheStoredLogin()
    {
        var (name, client) = await fixture.CreateOperatorAsync("cli", pass: "cli-password-1");
        client.Dispose();
        var env = new Dictionary<string, string> { ["RAWORC_PASSWORD"] = "cli-password-1" };
        Assert.Equal(0, (await _cli.RunAsync(["login", "--url", Url, "--user", name], environment: env)).ExitCode);
        var stored = await File.ReadAllTextAsync(_cli.ConfigPath);

        var wrong = await _cli.RunAsync(["login", "--pass", "not-the-password"]);

        Assert.Equal(1, wrong.ExitCode);
        Assert.Equal("raworc: Invalid user name or password. (UNAUTHORIZED, HTTP 401)\n", wrong.Error);
        Assert.Equal("", wrong.Out);
        Assert.Equal(stored, await File.ReadAllTextAsync(_cli.ConfigPath));
    }

    [Fact]
    public async Task SessionsAreCreatedListedShownClosedRestoredAndDeleted()
    {
        var owner = await LoggedInOperatorAsync();
        var name = SessionTestExtensions.UniqueName("cli");

        var created = await _cli.RunAsync(["sessions", "create", "--name", name, "--timeout", "120", "--secret", "CLI_TOKEN=s3cret-value", "--json"]);
        Assert.Equal(0, created.ExitCode);
        var session = JsonNode.Parse(created.Out)!.AsObject();
        var id = (string)session["id"]!;
        Assert.Equal((name, "init", owner, 120), ((string?)session["name"], (string?)session["state"], (string?)session["created_by"], (int)session["timeout_seconds"]!));
        Assert.DoesNotContain("s3cret-value", created.Out);

        var list = await _cli.RunAsync(["sessions", "list"]);
        Assert.Equal(0, list.ExitCode);
        Assert.Equal(["ID", "NAME", "STATE", "CREATED"], list.Lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal([id, name, "init"], Assert.Single(list.Lines, l => l.StartsWith(id, StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[..3]);

        var shown = await _cli.RunAsync(["sessions", "show", name]);
        Assert.Equal(0, shown.ExitCode);
        Assert.Equal([$"id:               {id}", $"name:             {name}", "state:            init", $"created_by:       {owner}"], shown.Lines[..4]);
        Assert.Contains("timeout_seconds:  120", shown.Lines);

        var closed = await _cli.RunAsync(["sessions", "close", name]);
        Assert.Equal("state:            closed", closed.Lines[2]);
        var closedAgain = await _cli.RunAsync(["sessions", "close", name]);
        Assert.Equal((1, "raworc: The session is closed; cannot close it. (CONFLICT, HTTP 409)\n"), (closedAgain.ExitCode, closedAgain.Error));

        var restored = await _cli.RunAsync(["sessions", "restore", id, "--prompt", "welcome back"]);
        Assert.Equal("state:            init", restored.Lines[2]);
        using var api = fixture.CreateApiClient(await fixture.LoginAsync(owner, "cli-password-1"));
        Assert.Equal("welcome back", (string?)(await api.GetMessagesAsync(id))[0]!["content"]);

        var deleted = await _cli.RunAsync(["sessions", "delete", name]);
        Assert.Equal((0, $"Deleted {name}.\n"), (deleted.ExitCode, deleted.Out));
        var gone = await _cli.RunAsync(["sessions", "show", name]);
        Assert.Equal((1, "raworc: Session not found. (NOT_FOUND, HTTP 404)\n"), (gone.ExitCode, gone.Error));
    }

    [Fact]
    public async Task CommandsBeforeLoginSayToLogIn()
    {
        var result = await _cli.RunAsync(["sessions", "list"]);

        Assert.Equal((1, "", "raworc: Not logged in: run 'raworc login' first.\n"), (result.ExitCode, result.Out, result.Error));
    }

    public void Dispose() => _cli.Dispose();
}
