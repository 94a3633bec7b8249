using System.CommandLine;
using Raworc.Cli.Commands;
using Raworc.Client;

namespace Raworc.Cli;

/// <summary>
/// The <c>raworc</c> command line (System.CommandLine): <c>login</c>, <c>sessions list|create|show|close|restore|delete</c>,
/// <c>send</c>, <c>watch</c>. Exit codes: 0 success, 1 failure (the API's error, a Host that failed, a timeout — one line
/// on standard error says which), and System.CommandLine's own for bad usage.
/// </summary>
public static class RaworcCli
{
    /// <summary>Parses <paramref name="args"/> and runs the command.</summary>
    /// <param name="args">The arguments after <c>raworc</c>.</param>
    /// <param name="console">Where the command reads and writes.</param>
    /// <param name="cancellationToken">Stops a running command (<c>watch</c> ends with 0); Ctrl+C does too when run as a process.</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken)
    {
        using var context = new CliContext(console);
        var root = new RootCommand("Raworc: sessions with a computer and a Host that works on it.")
        {
            context.ConfigOption,
            LoginCommand.Create(context),
            SessionsCommand.Create(context),
            SendCommand.Create(context),
            WatchCommand.Create(context),
        };
        var invocation = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            // Only the process's own console turns Ctrl+C into cancellation; in-process callers pass a token.
            ProcessTerminationTimeout = ReferenceEquals(console.Out, Console.Out) ? TimeSpan.FromSeconds(2) : null,
        };
        return await root.Parse(args).InvokeAsync(invocation, cancellationToken);
    }
}

/// <summary>What every command shares: the console, the <c>--config</c> option, one <see cref="HttpClient"/>.</summary>
/// <param name="console">Where commands read and write.</param>
public sealed class CliContext(CliConsole console) : IDisposable
{
    private HttpClient? _http;

    /// <summary>Where commands read and write.</summary>
    public CliConsole Console => console;

    /// <summary><c>--config</c>: the config file (see <see cref="CliConfig.PathFor"/>); for every command.</summary>
    public Option<string> ConfigOption { get; } = new("--config")
    {
        Description = "Config file (default: $RAWORC_CONFIG, else raworc/config.json in the user's config folder)",
        Recursive = true,
    };

    /// <summary>The config file this run uses.</summary>
    /// <param name="parse">The parsed command line.</param>
    public string ConfigPath(ParseResult parse) => CliConfig.PathFor(parse.GetValue(ConfigOption), console.Environment);

    /// <summary>A client for <paramref name="url"/>, with no token.</summary>
    /// <param name="url">The server.</param>
    /// <exception cref="CliException">The URL is not an absolute http(s) address.</exception>
    public RaworcClient ClientFor(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var server) || server.Scheme is not ("http" or "https"))
        {
            throw new CliException($"'{url}' is not an http:// or https:// address.");
        }
        _http?.Dispose();
        // The event stream stays open for as long as it is watched: no overall request timeout (calls still honour cancellation).
        _http = new HttpClient { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
        return new RaworcClient(_http);
    }

    /// <summary>A client for the stored server and token.</summary>
    /// <param name="parse">The parsed command line.</param>
    /// <exception cref="CliException">Not logged in.</exception>
    public RaworcClient LoggedInClient(ParseResult parse)
    {
        var config = CliConfig.Load(ConfigPath(parse)) ?? throw new CliException("Not logged in: run 'raworc login' first.");
        var client = ClientFor(config.Url);
        client.Token = config.Token;
        return client;
    }

    /// <summary>Runs a command's body, turning the failures a user can act on into one line on standard error and exit code 1.</summary>
    /// <param name="body">The command.</param>
    public Func<ParseResult, CancellationToken, Task<int>> Guard(Func<ParseResult, CancellationToken, Task<int>> body) => async (parse, cancellationToken) =>
    {
        try
        {
            return await body(parse, cancellationToken);
        }
        catch (RaworcApiException e)
        {
            var hint = e.Code == "UNAUTHORIZED" && parse.CommandResult.Command.Name != "login" ? " Run 'raworc login' again." : "";
            await console.Error.WriteLineAsync($"raworc: {e.Message} ({e.Code}, HTTP {(int)e.Status}){Details(e)}{hint}");
            return 1;
        }
        catch (HttpRequestException e)
        {
            await console.Error.WriteLineAsync($"raworc: the server could not be reached: {e.Message}");
            return 1;
        }
        catch (System.Text.Json.JsonException)
        {
            await console.Error.WriteLineAsync("raworc: the server's answer was not the JSON of the Raworc API v0; is --url a Raworc server?");
            return 1;
        }
        catch (CliException e)
        {
            await console.Error.WriteLineAsync($"raworc: {e.Message}");
            return 1;
        }
    };

    private static string Details(RaworcApiException e) => e.Details is { Count: > 0 } details
        ? " " + string.Join("; ", details.Select(d => $"{d.Key}: {string.Join(", ", d.Value)}"))
        : "";

    /// <inheritdoc />
    public void Dispose() => _http?.Dispose();
}
