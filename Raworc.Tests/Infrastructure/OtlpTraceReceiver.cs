using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Raworc.Tests.Infrastructure;

/// <summary>
/// An OTLP/HTTP endpoint on 127.0.0.1 (<c>POST /v1/traces</c>, protobuf) that keeps the spans the API exports, so a test
/// can look at the traces the Aspire dashboard would show. Log exports are kept raw (<see cref="LogExports"/>); metrics are accepted and dropped. Only the fields the
/// tests and the benchmark read are decoded: ids, parent, name, kind, start and end times, string and integer attributes, links.
/// </summary>
public sealed class OtlpTraceReceiver : IAsyncDisposable
{
    /// <summary>Most spans kept (a whole test run's computer tests stay far below it).</summary>
    public const int MaxSpans = 200_000;

    private readonly WebApplication _app;
    private readonly List<ReceivedSpan> _spans = [];
    private readonly List<byte[]> _logExports = [];
    private long _logBytes;

    /// <summary>Most bytes of log exports kept; later exports are dropped.</summary>
    public const long MaxLogBytes = 64L * 1024 * 1024;

    /// <summary>
    /// The log export requests received so far, each the raw protobuf body (not decoded: a test reads the strings in it,
    /// which protobuf carries as UTF-8 bytes), up to <see cref="MaxLogBytes"/>.
    /// </summary>
    public IReadOnlyList<byte[]> LogExports
    {
        get
        {
            lock (_logExports)
            {
                return [.. _logExports];
            }
        }
    }
    private int _unreadable;

    private OtlpTraceReceiver(WebApplication app) => _app = app;

    /// <summary>The base URL to give as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (with <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>).</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Export requests this reader could not decode (their spans are missing from <see cref="Spans"/>).</summary>
    public int Unreadable => Volatile.Read(ref _unreadable);

    /// <summary>Every span received so far.</summary>
    public IReadOnlyList<ReceivedSpan> Spans
    {
        get
        {
            lock (_spans)
            {
                return [.. _spans];
            }
        }
    }

    /// <summary>Starts the receiver on a free loopback port.</summary>
    public static async Task<OtlpTraceReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpTraceReceiver(app);
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            List<ReceivedSpan> spans;
            try
            {
                spans = OtlpSpanReader.ReadExportRequest(body.ToArray());
            }
            catch (Exception ex) when (ex is InvalidDataException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                Interlocked.Increment(ref receiver._unreadable);
                return Results.BadRequest();
            }
            lock (receiver._spans)
            {
                receiver._spans.AddRange(spans.Take(MaxSpans - receiver._spans.Count));
            }
            return Results.Bytes([], "application/x-protobuf");
        });
        app.MapPost("/v1/logs", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            lock (receiver._logExports)
            {
                if (receiver._logBytes + body.Length <= MaxLogBytes)
                {
                    receiver._logExports.Add(body.ToArray());
                    receiver._logBytes += body.Length;
                }
            }
            return Results.Bytes([], "application/x-protobuf");
        });
        app.MapPost("/v1/{signal}", () => Results.Bytes([], "application/x-protobuf"));
        await app.StartAsync();
        receiver.Endpoint = new Uri(app.Urls.Single());
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

/// <summary>A span as OTLP carries it; ids in lower-case hex, <see cref="ParentSpanId"/> empty for a root.</summary>
/// <param name="TraceId">32 hex digits.</param>
/// <param name="SpanId">16 hex digits.</param>
/// <param name="ParentSpanId">16 hex digits, or empty.</param>
/// <param name="Name">The span's name, e.g. <c>POST /api/v0/sessions/{id}/busy</c>.</param>
/// <param name="Kind">OTLP's kind: 1 internal, 2 server, 3 client.</param>
/// <param name="StartUnixNano">When it started, nanoseconds since 1970.</param>
/// <param name="EndUnixNano">When it ended, nanoseconds since 1970 (the API's clock, as <see cref="StartUnixNano"/>).</param>
/// <param name="Attributes">String and integer attributes (integers as decimal text).</param>
/// <param name="Links">Links as (trace id, span id).</param>
public sealed record ReceivedSpan(string TraceId, string SpanId, string ParentSpanId, string Name, int Kind, ulong StartUnixNano, ulong EndUnixNano,
    IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<(string TraceId, string SpanId)> Links)
{
    /// <summary>OTLP's server kind.</summary>
    public const int Server = 2;

    /// <summary>OTLP's client kind.</summary>
    public const int Client = 3;
}
