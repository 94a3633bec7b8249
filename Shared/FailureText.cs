using System.Net.Sockets;

namespace Raworc;

/// <summary>
/// What failed, in words an operator can act on ("the call timed out", "the connection was refused", "the Docker engine
/// answered 500", "Postgres is unavailable"), for log lines and for errors a user reads. Never the exception's .NET type
/// (which says nothing to an operator and is a detail the founders' brief keeps out of every response and log line), and
/// never its message, which for drivers and sockets may carry a host, a path or a connection string; only the exceptions
/// whose messages Raworc writes for readers are quoted. One definition compiled into both the API and the Host agent (two
/// programs); each adds the failures of its own dependencies in <c>DescribeOwn</c> (the API: Docker, Postgres, Redis and
/// the computers' own errors; the agent: its API and the model provider), which is looked for along the whole chain of
/// inner exceptions before the runtime's own failures are.
/// </summary>
internal static partial class FailureText
{
    /// <summary>The words for a failure nobody foresaw; the log line beside it says what was being done.</summary>
    public const string Unexpected = "an unexpected error";

    /// <summary>
    /// Describes <paramref name="exception"/> (or the most telling exception it wraps) in a lower-case clause without a final
    /// full stop, e.g. "the connection was refused"; <see cref="Unexpected"/> when nothing in the chain is known.
    /// </summary>
    /// <param name="exception">Any failure.</param>
    public static string Describe(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (DescribeOwn(current) is { } own)
            {
                return own;
            }
        }
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (DescribeRuntime(current) is { } words)
            {
                return words;
            }
        }
        return Unexpected;
    }

    /// <summary>
    /// <see cref="Describe"/> for a log line: where that says <see cref="Unexpected"/>, it adds what kind of failure the
    /// innermost exception is and which component raised it, e.g. "an unexpected error: an operation in the wrong state,
    /// raised in Docker.DotNet" — enough to know where to look, still without the type's name, the message or a stack
    /// trace. Users read <see cref="Describe"/>'s words alone.
    /// </summary>
    public static string DescribeForLog(Exception exception)
    {
        var words = Describe(exception);
        if (words != Unexpected)
        {
            return words;
        }
        var innermost = exception;
        while (innermost.InnerException is { } inner)
        {
            innermost = inner;
        }
        return $"{Unexpected}: {KindOf(innermost)}, raised in {ComponentOf(innermost)}";
    }

    // The broad kind of a failure nobody foresaw, from the runtime's own exceptions; the most derived first.
    private static string KindOf(Exception exception) => exception switch
    {
        ArgumentException => "an invalid argument",
        ObjectDisposedException => "something used after it was closed",
        InvalidOperationException => "an operation in the wrong state",
        NullReferenceException => "a missing value",
        KeyNotFoundException => "a missing entry",
        NotSupportedException or NotImplementedException => "an unsupported operation",
        FormatException => "a malformed value",
        InvalidCastException => "a value of the wrong kind",
        IndexOutOfRangeException => "an index out of range",
        ArithmeticException => "an arithmetic overflow",
        _ => "an unforeseen kind of failure",
    };

    // The component (assembly) that raised it: the runtime's as ".NET", Raworc's as "Raworc's own code", a library by its
    // name (Docker.DotNet, Npgsql, StackExchange.Redis); a Source set to anything but a plain name is not repeated.
    private static string ComponentOf(Exception exception) => exception.Source switch
    {
        null or "" => "an unknown component",
        var source when source.StartsWith("System.", StringComparison.Ordinal) || source.StartsWith("Microsoft.", StringComparison.Ordinal)
            || source is "System" or "mscorlib" or "netstandard" => ".NET",
        var source when source.StartsWith("Raworc", StringComparison.Ordinal) => "Raworc's own code",
        var source when source.Length <= 64 && source.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_') => source,
        _ => "an unknown component",
    };

    /// <summary>The failures of the program's own dependencies, or null for any other exception.</summary>
    private static partial string? DescribeOwn(Exception exception);

    // Null: this level says less than the exception it wraps.
    private static string? DescribeRuntime(Exception exception) => exception switch
    {
        TimeoutException or OperationCanceledException => "the call timed out",
        HttpRequestException { StatusCode: { } status } => $"the server answered {(int)status}",
        HttpRequestException { InnerException: SocketException or IOException } => null,
        HttpRequestException http => http.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "the host name could not be resolved",
            HttpRequestError.SecureConnectionError => "the TLS handshake failed",
            HttpRequestError.ResponseEnded => "the connection was closed before an answer",
            HttpRequestError.InvalidResponse or HttpRequestError.HttpProtocolError => "the answer was not valid HTTP",
            _ => "the connection failed",
        },
        SocketException socket => socket.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "the connection was refused",
            SocketError.TimedOut => "the call timed out",
            SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => "the host name could not be resolved",
            SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown => "the connection was reset",
            SocketError.NetworkUnreachable or SocketError.HostUnreachable or SocketError.NetworkDown => "the network or host is unreachable",
            // A Unix socket whose file is missing.
            SocketError.AddressNotAvailable => "the address or socket file is not available",
            SocketError.AccessDenied => "permission was denied",
            _ => "a network error",
        },
        IOException { InnerException: SocketException } => null,
        System.Text.Json.JsonException => "the answer was not the JSON expected",
        UnauthorizedAccessException => "permission was denied",
        FileNotFoundException or DirectoryNotFoundException => "a file or folder was not found",
        EndOfStreamException => "the connection was closed early",
        IOException => "an input/output error (a dropped connection or an unreadable file)",
        OutOfMemoryException => "the process ran out of memory",
        _ => null,
    };
}
