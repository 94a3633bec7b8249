using System.CommandLine;
using Raworc.Client;
using Raworc.Client.Models;

namespace Raworc.Cli.Commands;

/// <summary><c>raworc sessions list|create|show|close|restore|delete</c>: the session endpoints of the API.</summary>
public static class SessionsCommand
{
    /// <summary>Builds the command group.</summary>
    /// <param name="context">The shared CLI context.</param>
    public static Command Create(CliContext context) => new("sessions", "List, create, show, close, restore and delete sessions")
    {
        List(context), CreateSession(context), Show(context), Close(context), Restore(context), Delete(context),
    };

    private static Option<bool> JsonOption() => new("--json") { Description = "Print the API's JSON instead of text" };

    private static Argument<string> SessionArgument() => new("session") { Description = "The session's id or name" };

    private static Command List(CliContext context)
    {
        var state = new Option<string>("--state") { Description = "Only sessions in this state (init, idle, busy, closed, errored)" };
        var limit = new Option<int?>("--limit") { Description = "At most this many (1–1000; default 100)" };
        var offset = new Option<int?>("--offset") { Description = "Skip this many" };
        var json = JsonOption();
        var command = new Command("list", "List your sessions, newest first (an admin's: everyone's)") { state, limit, offset, json };
        command.SetAction(context.Guard(async (parse, cancellationToken) =>
        {
            var page = await context.LoggedInClient(parse).ListSessionsAsync(parse.GetValue(state), parse.GetValue(limit), parse.GetValue(offset), cancellationToken);
            await context.Console.Out.WriteLineAsync(parse.GetValue(json) ? RaworcJson.Serialize(page.Items.ToList()) : SessionText.Table(page.Items));
            if (page.Items.Count < page.Total)
            {
                await context.Console.Error.WriteLineAsync($"{page.Items.Count} of {page.Total} sessions (use --limit and --offset for more)");
            }
            return 0;
        }));
        return command;
    }

    private static Command CreateSession(CliContext context)
    {
        var name = new Option<string>("--name") { Description = "A unique name (letters, digits and -)" };
        var prompt = new Option<string>("--prompt") { Description = "A first message for the Host" };
        var instructions = new Option<string>("--instructions") { Description = "Instructions added to the Host's system prompt" };
        var setup = new Option<string>("--setup") { Description = "A shell script run at every computer start" };
        var timeout = new Option<int?>("--timeout") { Description = "Idle timeout in seconds (1–604800; default 300)" };
        var secrets = new Option<string[]>("--secret") { Description = "A secret as NAME=VALUE (repeatable); never shown again", AllowMultipleArgumentsPerToken = false };
        var json = JsonOption();
        var command = new Command("create", "Create a session (its computer starts at once)") { name, prompt, instructions, setup, timeout, secrets, json };
        command.SetAction(context.Guard(async (parse, cancellationToken) =>
        {
            var request = new CreateSessionRequest(parse.GetValue(name), Secrets: Secrets(parse.GetValue(secrets)),
                Instructions: parse.GetValue(instructions), Setup: parse.GetValue(setup), Prompt: parse.GetValue(prompt), TimeoutSeconds: parse.GetValue(timeout));
            var session = await context.LoggedInClient(parse).CreateSessionAsync(request, cancellationToken);
            await PrintAsync(context, parse.GetValue(json), session);
            return 0;
        }));
        return command;
    }

    private static Command Show(CliContext context) => OnSession(context, "show", "Show a session",
        (client, session, _, cancellationToken) => client.GetSessionAsync(session, cancellationToken));

    private static Command Close(CliContext context) => OnSession(context, "close", "Close a session: its computer stops, files and history stay",
        (client, session, _, cancellationToken) => client.CloseSessionAsync(session, cancellationToken));

    private static Command Restore(CliContext context)
    {
        var prompt = new Option<string>("--prompt") { Description = "A message for the Host once the session is back" };
        return OnSession(context, "restore", "Restore a closed or errored session on a new computer",
            (client, session, parse, cancellationToken) => client.RestoreSessionAsync(session, parse.GetValue(prompt), cancellationToken), prompt);
    }

    private static Command Delete(CliContext context)
    {
        var session = SessionArgument();
        var command = new Command("delete", "Delete a session with its computer, files and messages") { session };
        command.SetAction(context.Guard(async (parse, cancellationToken) =>
        {
            await context.LoggedInClient(parse).DeleteSessionAsync(parse.GetRequiredValue(session), cancellationToken);
            await context.Console.Out.WriteLineAsync($"Deleted {parse.GetRequiredValue(session)}.");
            return 0;
        }));
        return command;
    }

    private static Command OnSession(CliContext context, string name, string description,
        Func<RaworcClient, string, ParseResult, CancellationToken, Task<Session>> call, params Option[] options)
    {
        var session = SessionArgument();
        var json = JsonOption();
        var command = new Command(name, description) { session, json };
        foreach (var option in options)
        {
            command.Options.Add(option);
        }
        command.SetAction(context.Guard(async (parse, cancellationToken) =>
        {
            var result = await call(context.LoggedInClient(parse), parse.GetRequiredValue(session), parse, cancellationToken);
            await PrintAsync(context, parse.GetValue(json), result);
            return 0;
        }));
        return command;
    }

    private static Task PrintAsync(CliContext context, bool json, Session session) =>
        context.Console.Out.WriteLineAsync(json ? RaworcJson.Serialize(session) : SessionText.Details(session));

    private static Dictionary<string, string>? Secrets(string[]? pairs)
    {
        if (pairs is not { Length: > 0 })
        {
            return null;
        }
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                // The value is not repeated: a mistyped secret is still a secret.
                throw new CliException("--secret needs NAME=VALUE.");
            }
            secrets[pair[..equals]] = pair[(equals + 1)..];
        }
        return secrets;
    }
}
