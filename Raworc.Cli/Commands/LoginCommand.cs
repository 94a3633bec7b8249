using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Raworc.Cli.Commands;

/// <summary>
/// <c>raworc login [--url URL] [--user NAME] [--pass PASSWORD]</c>: logs in (<c>POST /operators/{user}/login</c>) and
/// stores the server, the operator and the token in the config file (mode 0600).
/// </summary>
public static class LoginCommand
{
    /// <summary>The server when neither <c>--url</c> nor a stored config names one (the contract's fixed port).</summary>
    public const string DefaultUrl = "http://localhost:9000";

    /// <summary>Builds the command.</summary>
    /// <param name="context">The shared CLI context.</param>
    public static Command Create(CliContext context)
    {
        var url = new Option<string>("--url") { Description = $"Server address (default: the stored one, else {DefaultUrl})" };
        var user = new Option<string>("--user", "-u") { Description = "Operator name (default: the stored one, else admin)" };
        var pass = new Option<string>("--pass", "-p") { Description = "Password (default: $RAWORC_PASSWORD, else read from standard input)" };
        var command = new Command("login", "Log in and store the token in the config file (readable only by you)") { url, user, pass };
        command.SetAction(context.Guard(async (parse, cancellationToken) =>
        {
            var path = context.ConfigPath(parse);
            var stored = CliConfig.Load(path);
            var server = parse.GetValue(url) ?? stored?.Url ?? DefaultUrl;
            var name = parse.GetValue(user) ?? stored?.User ?? "admin";
            var password = parse.GetValue(pass) ?? context.Console.Environment("RAWORC_PASSWORD") ?? await ReadPasswordAsync(context.Console, name);
            if (string.IsNullOrEmpty(password))
            {
                throw new CliException("No password: give --pass, set RAWORC_PASSWORD or type it on standard input.");
            }

            var client = context.ClientFor(server);
            var login = await client.LoginAsync(name, password, cancellationToken);
            new CliConfig(server, name, login.Token, login.ExpiresAt).Save(path);
            await context.Console.Out.WriteLineAsync(
                $"Logged in to {server} as {name} ({login.Role ?? "user"}); the token is valid until {login.ExpiresAt.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}.");
            return 0;
        }));
        return command;
    }

    // One line of standard input; on a terminal, asked for on standard error and read without echo.
    private static async Task<string?> ReadPasswordAsync(CliConsole console, string user)
    {
        if (!console.IsInteractive || !ReferenceEquals(console.In, Console.In))
        {
            return (await console.In.ReadLineAsync())?.TrimEnd('\r');
        }

        await console.Error.WriteAsync($"Password for {user}: ");
        var password = new StringBuilder();
        for (var key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
        {
            if (key.Key == ConsoleKey.Backspace)
            {
                password.Length = Math.Max(0, password.Length - 1);
            }
            else if (!char.IsControl(key.KeyChar))
            {
                password.Append(key.KeyChar);
            }
        }
        await console.Error.WriteLineAsync();
        return password.ToString();
    }
}
