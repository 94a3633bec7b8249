using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Raworc.ApiService.Platform;

/// <summary>
/// The API's console log: the console logger's own <c>simple</c> format (its options apply), except that an entry's
/// exception is written as a few words at the end of its line, e.g. <c>… (Postgres is unavailable)</c>
/// (<see cref="FailureText.Describe"/>), never as the type, message and stack trace the console logger prints. Raworc's
/// own log lines pass no exception; the framework's and the drivers' do (EF Core's failed command, a failed health
/// check), and their exceptions' text would put .NET type names, and perhaps a host or a connection string, in the log.
/// </summary>
/// <param name="services">Where the <c>simple</c> formatter is found, on first use (it is registered beside this one).</param>
internal sealed class WordsOnlyConsoleFormatter(IServiceProvider services) : ConsoleFormatter(FormatterName)
{
    /// <summary>The formatter's name (<c>Logging:Console:FormatterName</c>).</summary>
    public const string FormatterName = "raworc";

    private ConsoleFormatter? _simple;

    /// <inheritdoc />
    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var simple = _simple ??= services.GetServices<ConsoleFormatter>().First(f => f.Name == ConsoleFormatterNames.Simple);
        if (logEntry.Exception is not { } exception)
        {
            simple.Write(logEntry, scopeProvider, textWriter);
            return;
        }
        var format = logEntry.Formatter;
        var words = FailureText.DescribeForLog(exception);
        simple.Write(new LogEntry<TState>(logEntry.LogLevel, logEntry.Category, logEntry.EventId, logEntry.State, exception: null,
            (state, _) => $"{format(state, null)} ({words})"), scopeProvider, textWriter);
    }
}
