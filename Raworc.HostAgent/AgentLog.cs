namespace Raworc.HostAgent;

/// <summary>
/// The agent's log: one line per entry on standard output (<c>info: Category: message</c>), which Docker keeps as the
/// computer's log. Entries below <see cref="LogLevel.Information"/> are dropped; an exception adds only its description in
/// words (<see cref="FailureText.Describe"/>: no stack trace, no type name, no message that could carry an address). Stands in for the console logger of Microsoft.Extensions.Logging, whose options,
/// configuration binding and background queue every idle agent would carry in memory.
/// </summary>
public sealed class AgentLog : ILoggerFactory
{
    /// <summary>The lowest level written.</summary>
    public LogLevel MinimumLevel { get; init; } = LogLevel.Information;

    /// <summary>Where lines go; standard output unless set.</summary>
    public TextWriter Output { get; init; } = Console.Out;

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <summary>Providers are not supported: the log has one destination.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("The agent's log has one destination.");

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private static string Label(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        _ => "crit",
    };

    private sealed class Logger(AgentLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= log.MinimumLevel && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            var text = formatter(state, exception);
            log.Output.WriteLine(exception is null
                ? $"{Label(logLevel)}: {category}: {text}"
                : $"{Label(logLevel)}: {category}: {text} ({FailureText.DescribeForLog(exception)})");
        }
    }
}
