using System.CommandLine;
using Raworc.Client;
using Raworc.Client.Models;

namespace Raworc.Cli.Commands;

/// <summary>
/// <c>raworc send SESSION "text" [--timeout SECONDS]</c>: posts a user message and prints the Host's tool runs and its
/// answer as they arrive on the session's event stream. The answer goes to standard output after the tool runs;
/// state changes go to standard error. Exit code 0 with an answer; 1 when the Host ended its turn with an error, the
/// session errored or was deleted, or no answer came within the timeout. A closed session restores itself first.
/// </summary>
public static class SendCommand
{
    /// <summary>Builds the command.</summary>
    /// <param name="context">The shared CLI context.</param>
    public static Command Create(CliContext context)
    {
        var session = new Argument<string>("session") { Description = "The session's id or name" };
        var text = new Argument<string>("text") { Description = "The message" };
        var timeout = new Option<int>("--timeout")
        {
            Description = "Seconds to wait for the answer (default 600)",
            DefaultValueFactory = _ => 600,
        };
        var command = new Command("send", "Send a message and print the Host's tool runs and answer as they happen") { session, text, timeout };
        command.SetAction(context.Guard(async (parse, cancellationToken) =>
        {
            var client = context.LoggedInClient(parse);
            var name = parse.GetRequiredValue(session);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(parse.GetValue(timeout)));

            try
            {
                // Connected before posting, so the message and everything after it are on the stream.
                await using var events = await client.OpenEventsAsync(name, cancellationToken: deadline.Token);
                var posted = await client.PostMessageAsync(name, parse.GetRequiredValue(text), cancellationToken: deadline.Token);
                return await FollowAsync(context.Console, events, posted, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new CliException($"No answer within {parse.GetValue(timeout)} s; the Host may still answer (raworc watch {name}).");
            }
        }));
        return command;
    }

    // Events before our own message belong to earlier turns; after it, the first answer or error ends the wait.
    private static async Task<int> FollowAsync(CliConsole console, SessionEventStream events, Message posted, CancellationToken cancellationToken)
    {
        var seen = false;
        await foreach (var e in events.ReadAllAsync(cancellationToken))
        {
            switch (e)
            {
                case MessageEvent { Message: var m } when m.Id == posted.Id:
                    seen = true;
                    break;
                case MessageEvent when !seen:
                    break;
                case MessageEvent { Message: { Role: MessageRoles.Host, Type: "tool_execution" } m }:
                    await console.Out.WriteLineAsync(EventText.ToolRun(m));
                    break;
                case MessageEvent { Message: { Role: MessageRoles.Host, Type: "error" } m }:
                    await console.Error.WriteLineAsync($"raworc: the Host ended its turn without an answer: {TerminalText.Visible(m.Content)}");
                    return 1;
                case MessageEvent { Message: { Role: MessageRoles.Host } m }:
                    await console.Out.WriteLineAsync(TerminalText.Visible(m.Content));
                    return 0;
                case MessageEvent { Message: var m }:
                    await console.Error.WriteLineAsync($"{m.Role}: {TerminalText.Visible(m.Content)}");
                    break;
                case StateEvent { Session.State: SessionStates.Errored } s:
                    await console.Error.WriteLineAsync($"raworc: the session errored: {TerminalText.Visible(s.Session.Error)}");
                    return 1;
                case StateEvent s:
                    await console.Error.WriteLineAsync($"state: {s.Session.State}");
                    break;
                case DeletedEvent:
                    await console.Error.WriteLineAsync("raworc: the session was deleted.");
                    return 1;
            }
        }
        return 1;
    }
}
