using System.Diagnostics;
using System.Globalization;
using Raworc.Tests.Infrastructure;

namespace Raworc.Benchmarks;

/// <summary>
/// Where one answer's time goes between the question stored and the answer stored, read from the spans the API exported
/// for the question's trace (README "Telemetry": the Host sends the message's <c>traceparent</c> on every call of its
/// turn; its long-poll links to the message's request). Every time is the API's clock, as the messages'
/// <c>created_at</c> are. Gaps between the API's spans are the agent's work plus the trip over the computer's socket.
/// </summary>
/// <param name="Steps">The steps in order, with their time in seconds and the Postgres and Redis calls inside them; they add
/// up to the question stored → answer stored figure.</param>
internal sealed record TurnSplit(IReadOnlyList<TurnSplit.Step> Steps)
{
    /// <summary>One step of a turn.</summary>
    /// <param name="Name">What happens in it.</param>
    /// <param name="Seconds">How long it took.</param>
    /// <param name="Postgres">Postgres commands inside it (Npgsql's client spans).</param>
    /// <param name="Redis">Redis commands inside it.</param>
    public sealed record Step(string Name, double Seconds, int Postgres, int Redis);

    public const string QuestionAfterStored = "question's `POST` after stored (rest of its transaction, response)";
    public const string WakeUp = "wake-up (→ Host's long-poll answered: Redis, shared read, response)";
    public const string ToBusy = "Host → `POST /busy`";
    public const string Busy = "`POST /busy`";
    public const string ToGateway = "Host → model call";
    public const string GatewayBefore = "gateway before the model (auth, session read)";
    public const string Model = "stand-in model (gateway → model → gateway)";
    public const string GatewayAfter = "gateway after the model (usage write, end of response)";
    public const string ToAnswer = "Host → answer `POST`";
    public const string AnswerStored = "answer `POST` → stored";

    private static readonly string[] Order = [QuestionAfterStored, WakeUp, ToBusy, Busy, ToGateway, GatewayBefore, Model, GatewayAfter, ToAnswer, AnswerStored];

    private const string MessagesRoute = "/api/v0/sessions/{id}/messages/";

    /// <summary>A new trace context for a client's request: <c>traceparent</c> header value, trace id, caller span id.</summary>
    public static (string Header, string TraceId, string CallerSpanId) NewTraceParent()
    {
        var (trace, caller) = (ActivityTraceId.CreateRandom().ToHexString(), ActivitySpanId.CreateRandom().ToHexString());
        return ($"00-{trace}-{caller}-01", trace, caller);
    }

    /// <summary>True once the turn's last call (<c>POST /idle</c>) of the trace has been exported.</summary>
    public static bool IsComplete(IReadOnlyList<ReceivedSpan> spans, string traceId) =>
        spans.Any(s => s.TraceId == traceId && s.Kind == ReceivedSpan.Server && Route(s) == "POST /api/v0/sessions/{id}/idle");

    /// <summary>
    /// The split of one answer (a turn with one model call and no tool), or null when a span it needs is missing (not
    /// exported yet, or the turn took another shape).
    /// </summary>
    public static TurnSplit? From(IReadOnlyList<ReceivedSpan> spans, string traceId, string callerSpanId, DateTimeOffset questionStored,
        DateTimeOffset answerStored)
    {
        var request = spans.FirstOrDefault(s => s.TraceId == traceId && s.ParentSpanId == callerSpanId && s.Kind == ReceivedSpan.Server);
        if (request is null)
        {
            return null;
        }
        var turn = spans.Where(s => s.TraceId == traceId && s.ParentSpanId == request.SpanId && s.Kind == ReceivedSpan.Server)
            .OrderBy(s => s.StartUnixNano).ToList();
        var busy = turn.FirstOrDefault(s => Route(s) == "POST /api/v0/sessions/{id}/busy");
        var gateway = turn.FirstOrDefault(s => Route(s).Contains("/model/", StringComparison.Ordinal));
        // A server span ends once the response is sent, which may be just after its client saw the response and went on:
        // spans are told apart by their starts, and a gap between one's end and the next's start may be slightly negative.
        var answer = gateway is null ? null : turn.FirstOrDefault(s => Route(s) == "POST " + MessagesRoute && s.StartUnixNano > gateway.StartUnixNano);
        // The Host's long-poll that returned the message: it links to the message's request (it began in a trace of its own).
        var poll = busy is null ? null : spans.Where(s => s.Kind == ReceivedSpan.Server && Route(s) == "GET " + MessagesRoute
                && s.Links.Contains((traceId, request.SpanId)) && s.StartUnixNano < busy.StartUnixNano)
            .MaxBy(s => s.StartUnixNano);
        var upstream = gateway is null ? null : Descendants(spans, gateway)
            .Where(s => s.Kind == ReceivedSpan.Client && s.Attributes.ContainsKey("http.request.method")).MinBy(s => s.StartUnixNano);
        if (busy is null || gateway is null || answer is null || poll is null || upstream is null)
        {
            return null;
        }

        var stored = Nanos(questionStored);
        var answered = Nanos(answerStored);
        var gatewayCalls = Descendants(spans, gateway);
        return new TurnSplit(
        [
            // The request's own calls (its direct children; the turn's requests are children of it too, as servers).
            Counted(QuestionAfterStored, stored, request.EndUnixNano,
                spans.Where(s => s.TraceId == traceId && s.ParentSpanId == request.SpanId && s.StartUnixNano >= stored)),
            new Step(WakeUp, Seconds(request.EndUnixNano, poll.EndUnixNano), 0, 0),
            new Step(ToBusy, Seconds(poll.EndUnixNano, busy.StartUnixNano), 0, 0),
            Counted(Busy, busy.StartUnixNano, busy.EndUnixNano, Descendants(spans, busy)),
            new Step(ToGateway, Seconds(busy.EndUnixNano, gateway.StartUnixNano), 0, 0),
            Counted(GatewayBefore, gateway.StartUnixNano, upstream.StartUnixNano, gatewayCalls.Where(s => s.StartUnixNano < upstream.StartUnixNano)),
            new Step(Model, Seconds(upstream.StartUnixNano, upstream.EndUnixNano), 0, 0),
            Counted(GatewayAfter, upstream.EndUnixNano, gateway.EndUnixNano, gatewayCalls.Where(s => s.StartUnixNano >= upstream.EndUnixNano)),
            new Step(ToAnswer, Seconds(gateway.EndUnixNano, answer.StartUnixNano), 0, 0),
            Counted(AnswerStored, answer.StartUnixNano, answered, Descendants(spans, answer).Where(s => s.StartUnixNano < answered)),
        ]);
    }

    /// <summary>
    /// Each step's p50 over <paramref name="splits"/> (each step's own median, so they need not add up to the figure's), with
    /// its Postgres and Redis calls (p50 too), for a table's note.
    /// </summary>
    public static string Describe(IReadOnlyList<TurnSplit> splits, int asked)
    {
        if (splits.Count == 0)
        {
            return $"no split: none of the {asked} traces was complete";
        }
        var parts = Order.Select(name =>
        {
            var steps = splits.Select(s => s.Steps.Single(step => step.Name == name)).ToList();
            var calls = new List<string>();
            var postgres = Stats.P50(steps.Select(s => (double)s.Postgres).ToList());
            var redis = Stats.P50(steps.Select(s => (double)s.Redis).ToList());
            if (postgres > 0)
            {
                calls.Add(string.Create(CultureInfo.InvariantCulture, $"{postgres:0} Postgres"));
            }
            if (redis > 0)
            {
                calls.Add(string.Create(CultureInfo.InvariantCulture, $"{redis:0} Redis"));
            }
            var time = Stats.Millis(Stats.P50(steps.Select(s => s.Seconds).ToList()));
            return calls.Count == 0 ? $"{name} {time}" : $"{name} {time} ({string.Join(", ", calls)})";
        });
        return $"p50 of each step over {splits.Count} of {asked} turns: {string.Join("; ", parts)}";
    }

    /// <summary>The spans under <paramref name="root"/> in its trace, at any depth.</summary>
    internal static List<ReceivedSpan> Descendants(IReadOnlyList<ReceivedSpan> spans, ReceivedSpan root)
    {
        var inTrace = spans.Where(s => s.TraceId == root.TraceId).ToLookup(s => s.ParentSpanId);
        var found = new List<ReceivedSpan>();
        var pending = new Stack<string>();
        pending.Push(root.SpanId);
        while (pending.TryPop(out var parent))
        {
            foreach (var child in inTrace[parent])
            {
                found.Add(child);
                pending.Push(child.SpanId);
            }
        }
        return found;
    }

    private static Step Counted(string name, ulong start, ulong end, IEnumerable<ReceivedSpan> inside)
    {
        var calls = inside.Where(s => s.Kind == ReceivedSpan.Client).Select(DatabaseOf).ToList();
        return new Step(name, Seconds(start, end), calls.Count(d => d == "postgresql"), calls.Count(d => d == "redis"));
    }

    // Npgsql and StackExchange.Redis name their system in db.system (older semantic conventions) or db.system.name.
    private static string? DatabaseOf(ReceivedSpan span) =>
        span.Attributes.GetValueOrDefault("db.system") ?? span.Attributes.GetValueOrDefault("db.system.name");

    private static double Seconds(ulong from, ulong to) => ((double)to - from) / 1e9;

    private static ulong Nanos(DateTimeOffset time) => (ulong)(time - DateTimeOffset.UnixEpoch).Ticks * 100;

    private static string Route(ReceivedSpan span) =>
        $"{span.Attributes.GetValueOrDefault("http.request.method")} {span.Attributes.GetValueOrDefault("http.route")}";
}
