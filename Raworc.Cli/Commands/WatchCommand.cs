using System.CommandLine;

namespace Raworc.Cli.Commands;

/// <summary>
/// <c>raworc watch SESSION [--after ID] [--json]</c>: prints the session's events (messages, tool runs, state changes)
/// as they happen until Ctrl+C (exit code 0) or the session is deleted (0). The stream resumes by itself after a
/// dropped connection; <c>--after</c> replays everything after an event id printed by <c>--json</c>.
/// </summary>
public static class WatchCommand
{
    /// <summary>Builds the command.</summary>
    /// <param name="context">The shared CLI context.</param>
    public static Command Create(CliContext context)
    {
        var session = new Argument<string>("session") { Description = "The session's id or name" };
        var after = new Option<string>("--after") { Description = "Replay the events after this event id first" };
        var json = new Option<bool>("--json") { Description = "One JSON object per event: {\"id\",\"event\",\"data\"}" };
        var command = new Command("watch", "Print a session's events as they happen, until Ctrl+C") { session, after, json };
        command.SetAction(context.Guard(async (parse, cancellationToken) =>
        {
            var client = context.LoggedInClient(parse);
            var asJson = parse.GetValue(json);
            await using var events = await client.OpenEventsAsync(parse.GetRequiredValue(session), parse.GetValue(after), cancellationToken);
            await context.Console.Error.WriteLineAsync($"Watching {parse.GetRequiredValue(session)} (Ctrl+C to stop)");
            try
            {
                await foreach (var e in events.ReadAllAsync(cancellationToken))
                {
                    await context.Console.Out.WriteLineAsync(asJson ? EventText.Json(e) : EventText.Line(e));
                    await context.Console.Out.FlushAsync(CancellationToken.None);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C: the watch is over, which is what was asked.
            }
            return 0;
        }));
        return command;
    }
}
