using System.Diagnostics;
using System.Net;
using System.Text;
using Raworc.Tests.HostAgent;

namespace Raworc.Benchmarks;

/// <summary>A message's round trip through a real agent, and the message endpoint's throughput.</summary>
internal static class MessageBenchmarks
{
    public const string LatencyName = "message → host answer seen by a long-polling client";
    public const string LatencyTarget = "p50 ≤ 100 ms";
    public const string PostName = "`POST /sessions/{id}/messages` throughput";
    public const string PostTarget = "≥ 1,000 req/s";

    public const string FirstName = "first answer in a computer that never answered (message stored → answer stored)";
    public const string FirstTarget = "p50 ≤ 100 ms";

    public const string FirstSplitName = "first answer, split by the API's spans (stored → stored)";
    public const string LaterSplitName = "later answers, split by the API's spans (stored → stored)";

    /// <summary>
    /// Sends <paramref name="count"/> messages to one idle session, one at a time; each is timed from the POST until a
    /// <c>GET messages?after=&lt;its id&gt;&amp;wait=30</c> returns the agent's answer. The stand-in model answers at once.
    /// Returns the figure and the split of the later answers (all but the session's first) by the API's spans.
    /// </summary>
    public static async Task<Figure[]> LatencyAsync(BenchContext context, Guid id, int count, CancellationToken cancellationToken)
    {
        var asked = new List<Asked>();
        for (var i = 0; i < count; i++)
        {
            asked.Add(await AskAsync(context, id, $"question {i}", cancellationToken));
        }
        var elapsed = asked.Select(a => a.Seen).ToList();
        var stored = asked.Select(a => a.Stored).ToList();
        var p50 = Stats.P50(elapsed);
        var figure = new Figure(LatencyName, LatencyTarget, Stats.Millis(p50), Stats.Millis(Stats.P95(elapsed)), count, p50 <= 0.1,
            $"one session, one message at a time; question stored → answer stored (agent wake-up, turn, model, POST) p50 " +
            $"{Stats.Millis(Stats.P50(stored))}, p95 {Stats.Millis(Stats.P95(stored))}; the session's first message (its computer's first answer) " +
            $"{Stats.Millis(stored[0])} stored → stored");
        return [figure, await SplitAsync(context, LaterSplitName, asked.Skip(1).ToList(), cancellationToken)];
    }

    /// <summary>
    /// Issue 14, goal 2: one message to each of <paramref name="ids"/> (idle sessions whose computers never answered), one
    /// at a time; the figure is the server's own time from the question stored to the answer stored (<c>created_at</c>s, one clock).
    /// Returns the figure and its split by the API's spans.
    /// </summary>
    public static async Task<Figure[]> FirstAnswerAsync(BenchContext context, IReadOnlyList<Guid> ids, CancellationToken cancellationToken)
    {
        var asked = new List<Asked>();
        foreach (var id in ids)
        {
            asked.Add(await AskAsync(context, id, "first question", cancellationToken));
        }
        var stored = asked.Select(a => a.Stored).ToList();
        var p50 = Stats.P50(stored);
        var figure = new Figure(FirstName, FirstTarget, Stats.Millis(p50), Stats.Millis(Stats.P95(stored)), ids.Count, p50 <= 0.1,
            $"one message to each of {ids.Count} idle sessions whose computers never answered; all: " +
            $"{string.Join(", ", stored.Select(Stats.Millis))}; seen by a long-polling client p50 {Stats.Millis(Stats.P50(asked.Select(a => a.Seen).ToList()))}");
        return [figure, await SplitAsync(context, FirstSplitName, asked, cancellationToken)];
    }

    // Waits (up to 20 s) for the turns' spans to be exported, then splits each answer's stored → stored time.
    private static async Task<Figure> SplitAsync(BenchContext context, string name, IReadOnlyList<Asked> asked, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.GetTimestamp();
        while (!asked.All(a => TurnSplit.IsComplete(context.Fixture.Traces.Spans, a.TraceId)) && Stopwatch.GetElapsedTime(waited) < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(200, cancellationToken);
        }
        var spans = context.Fixture.Traces.Spans;
        var splits = asked.Select(a => TurnSplit.From(spans, a.TraceId, a.CallerSpanId, a.QuestionStored, a.AnswerStored))
            .OfType<TurnSplit>().ToList();
        var totals = asked.Select(a => a.Stored).ToList();
        return new Figure(name, "—", Stats.Millis(Stats.P50(totals)), Stats.Millis(Stats.P95(totals)), splits.Count, null,
            TurnSplit.Describe(splits, asked.Count));
    }

    // One message and its answer: POST → answer seen by a long-poll and question stored → answer stored (seconds), the
    // message's trace (its traceparent was set here) and both created_at.
    private sealed record Asked(double Seen, double Stored, string TraceId, string CallerSpanId, DateTimeOffset QuestionStored, DateTimeOffset AnswerStored);

    /// <summary>One message to <paramref name="id"/> (idle or closed: a closed one is restored by it) and its answer: POST → the answer seen by a long-poll, seconds.</summary>
    public static async Task<double> AskSeenAsync(BenchContext context, Guid id, string content, CancellationToken cancellationToken) =>
        (await AskAsync(context, id, content, cancellationToken)).Seen;

    private static async Task<Asked> AskAsync(BenchContext context, Guid id, string content, CancellationToken cancellationToken)
    {
        context.Fixture.Model.EnqueueFor(context.Api.KeyOf(id), ScriptStep.Answer($"answer to {content}"));
        var (traceParent, traceId, callerSpanId) = TurnSplit.NewTraceParent();
        var started = Stopwatch.GetTimestamp();
        var question = await context.Api.PostMessageAsync(id, content, cancellationToken, traceParent);
        var after = question.Id;
        MessageView? answer = null;
        while (answer is null)
        {
            if (Stopwatch.GetElapsedTime(started) > BenchContext.StateTimeout)
            {
                throw new BenchmarkException($"no answer to message {question.Id}");
            }
            var batch = await context.Api.MessagesAfterAsync(id, after, 30, cancellationToken);
            if (batch.FirstOrDefault(m => m.IsTurnError) is { } failed)
            {
                // Say why instead of waiting for an answer that will not come.
                throw new BenchmarkException($"the Host ended the turn without an answer: {failed.Content}");
            }
            answer = batch.FirstOrDefault(m => m.IsAnswer);
            after = batch.Count > 0 ? batch[^1].Id : after;
        }
        var seen = Stopwatch.GetElapsedTime(started).TotalSeconds;
        // The next message goes to an idle session again, as the first one did.
        await context.Api.WaitForStateAsync(id, "idle", TimeSpan.FromMilliseconds(10), BenchContext.StateTimeout, cancellationToken);
        return new Asked(seen, (answer.CreatedAt - question.CreatedAt).TotalSeconds, traceId, callerSpanId, question.CreatedAt, answer.CreatedAt);
    }

    /// <summary>
    /// 32 clients post user messages to one idle session with a live agent for a fixed window. The first message makes it
    /// busy; the rest queue up and the agent answers them in batched turns, as it would for a chatty client.
    /// </summary>
    public static async Task<Figure> PostThroughputAsync(BenchContext context, Guid id, int clients, TimeSpan duration, CancellationToken cancellationToken,
        string route = "", ApiCost? cost = null)
    {
        // Enough answers for every turn the agent may take during the window.
        context.Fixture.Model.EnqueueFor(context.Api.KeyOf(id), [.. Enumerable.Range(0, 2000).Select(i => ScriptStep.Answer($"batch {i}"))]);
        using var client = Load.CreateClient(context.BaseAddress, context.Token);
        var path = $"/api/v0/sessions/{id}/messages";
        var cpu = CpuSampler.Start();
        var result = await Load.RunAsync(client, clients, Load.Steady(cost), duration,
            n => new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent($$"""{"content":"load {{n}}"}""", Encoding.UTF8, "application/json") },
            HttpStatusCode.Created, cancellationToken, cost);
        var usage = cpu.Stop(duration.TotalSeconds + result.WarmUpSeconds);
        return new Figure(PostName + route, PostTarget, Stats.Rate(result.Rate), "—", result.Ok, result.Rate >= 1000,
            $"{clients} clients, {duration.TotalSeconds:0} s after {result.WarmUp}, to one session with a live agent (busy after the first, answering in batches); " +
            $"latency p50 {Stats.Millis(Stats.P50(result.Latencies))}, p95 {Stats.Millis(Stats.P95(result.Latencies))}; {Failures(result)}; " +
            $"{result.Cost} (the agent's own calls of its turns included); {usage}");
    }

    public static string Failures(LoadResult result) => result.Failed == 0 ? "0 errors" : $"{result.Failed} errors (first: {result.FirstError})";
}
