using OpenTelemetry;
using OpenTelemetry.Logs;

namespace Raworc.ApiService.Platform;

/// <summary>
/// Keeps a logged exception out of the log records exported over OTLP, as <see cref="WordsOnlyConsoleFormatter"/> keeps it
/// out of the console: OpenTelemetry's exporter turns <see cref="LogRecord.Exception"/> into the attributes
/// <c>exception.type</c>, <c>exception.message</c> and <c>exception.stacktrace</c> (OpenTelemetry semantic conventions),
/// which name .NET types and may quote a driver's message with a host or a connection string. The record keeps its text
/// and gets the failure in words (<see cref="FailureText"/>) as the attribute <see cref="FailureAttribute"/> instead.
/// Registered before the exporter's processor, so the exporter never sees the exception.
/// </summary>
public sealed class WordsOnlyLogRecordProcessor : BaseProcessor<LogRecord>
{
    /// <summary>The attribute that carries a record's failure in words, e.g. <c>Postgres has no free connection (53300)</c>.</summary>
    public const string FailureAttribute = "raworc.failure";

    /// <inheritdoc />
    public override void OnEnd(LogRecord data)
    {
        if (data.Exception is not { } exception)
        {
            return;
        }
        data.Exception = null;
        data.Attributes = [.. data.Attributes ?? [], new(FailureAttribute, FailureText.DescribeForLog(exception))];
    }
}
