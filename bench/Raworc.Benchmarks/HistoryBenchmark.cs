using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting.Testing;
using Npgsql;

namespace Raworc.Benchmarks;

/// <summary>
/// Issue 14, goal 7's second half: a session with 100,000 messages, closed, answers its next message (which restores it)
/// within 2× the time a fresh closed session takes, and its agent's memory does not grow with the history.
/// </summary>
internal static class HistoryBenchmark
{
    public const string Name = "closed → message → answer, session of 100,000 messages";
    public const string Target = "p50 ≤ 2× a fresh session's";

    /// <summary>Messages written into the long session, alternately the user's and the Host's.</summary>
    public const int Messages = 100_000;

    /// <summary>
    /// Makes a fresh session and a long one (<see cref="Messages"/> rows of ~210 characters written straight into Postgres,
    /// ~21 MB, as the issue measured, then vacuumed and analyzed as autovacuum would), then <paramref name="rounds"/> times each: close it, wait until its container is
    /// gone, post a message and time POST → the answer seen by a long-poll (the restore, the agent's start and its turn).
    /// Reads the agent's peak RSS (<c>VmHWM</c>) after each answer. Deletes both sessions.
    /// </summary>
    public static async Task<Figure> MeasureAsync(BenchContext context, int rounds, CancellationToken cancellationToken)
    {
        var fresh = await context.Api.CreateAsync(BenchContext.KeepTimeoutSeconds, cancellationToken);
        var longer = await context.Api.CreateAsync(BenchContext.KeepTimeoutSeconds, cancellationToken);
        try
        {
            foreach (var id in new[] { fresh.Id, longer.Id })
            {
                await context.Api.WaitForStateAsync(id, "idle", BenchContext.FastPoll, BenchContext.StateTimeout, cancellationToken);
            }
            var written = Stopwatch.GetTimestamp();
            await WriteHistoryAsync(context, longer.Id, cancellationToken);
            var writing = Stopwatch.GetElapsedTime(written).TotalSeconds;

            var freshTimes = new List<double>();
            var longTimes = new List<double>();
            var peaks = new List<double>();
            var freshPeaks = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                freshTimes.Add(await CloseAndAskAsync(context, fresh.Id, $"fresh {round}", cancellationToken));
                freshPeaks.Add(await PeakRssMiBAsync(context, fresh.Id));
                longTimes.Add(await CloseAndAskAsync(context, longer.Id, $"long {round}", cancellationToken));
                peaks.Add(await PeakRssMiBAsync(context, longer.Id));
            }
            var freshP50 = Stats.P50(freshTimes);
            var longP50 = Stats.P50(longTimes);
            return new Figure(Name, Target, Stats.Seconds(longP50), Stats.Seconds(Stats.P95(longTimes)), rounds, longP50 <= 2 * freshP50,
                Invariant($"{Messages:#,0} messages written into Postgres in {writing:0.0} s; each round closes the session, waits until its container is gone, ") +
                Invariant($"posts a message and waits for the answer; all: {string.Join(", ", longTimes.Select(Stats.Seconds))}; ") +
                Invariant($"the agent's peak RSS (VmHWM) after the answer p50 {Stats.P50(peaks):0.0} MiB, max {peaks.Max():0.0} MiB; ") +
                Invariant($"fresh session (2 messages before the first round) all: {string.Join(", ", freshTimes.Select(Stats.Seconds))}, ") +
                Invariant($"its agent's peak RSS p50 {Stats.P50(freshPeaks):0.0} MiB"))
            {
                P50Seconds = longP50,
                Floor = Invariant($"{Stats.Seconds(freshP50)} fresh session"),
                Ratio = Invariant($"{longP50 / freshP50:0.0}× fresh"),
            };
        }
        finally
        {
            await context.Api.DeleteAsync(fresh.Id, CancellationToken.None);
            await context.Api.DeleteAsync(longer.Id, CancellationToken.None);
        }
    }

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    // The history: user and Host messages in turn, each ~210 characters, older than anything the session holds.
    private static async Task WriteHistoryAsync(BenchContext context, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(await context.Fixture.App.GetConnectionStringAsync(ResourceNames.Database, cancellationToken));
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            INSERT INTO messages (id, session_id, role, content, metadata, created_at)
            SELECT gen_random_uuid(), @id, CASE WHEN g % 2 = 1 THEN 'user' ELSE 'host' END,
                   'history message ' || g || ' ' || repeat('lorem ipsum ', 16), '{}'::jsonb,
                   now() - interval '1 day' + g * interval '1 millisecond'
            FROM generate_series(1, @count) AS g
            """, connection);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("count", Messages);
        command.CommandTimeout = 300;
        await command.ExecuteNonQueryAsync(cancellationToken);
        // The table as autovacuum leaves it within a minute of such a write (its insert and analyze thresholds, PostgreSQL's
        // "The Autovacuum Daemon"): statistics that know the rows and hint bits set. A session that gathered its history
        // over time is read in that state; without it the first round measured the planner's and the heap's first sight
        // of 100,000 rows (1.35 s against 0.86 s and 0.72 s for the next two in one run).
        await using var vacuum = new NpgsqlCommand("VACUUM (ANALYZE) messages", connection) { CommandTimeout = 300 };
        await vacuum.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<double> CloseAndAskAsync(BenchContext context, Guid id, string content, CancellationToken cancellationToken)
    {
        await context.Api.PostActionAsync(id, "close", cancellationToken);
        await context.Api.WaitForStateAsync(id, "closed", BenchContext.FastPoll, BenchContext.StateTimeout, cancellationToken);
        await LifecycleBenchmarks.UntilContainerGoneAsync(context, id, cancellationToken);
        return await MessageBenchmarks.AskSeenAsync(context, id, content, cancellationToken);
    }

    // The Host agent's peak resident set in the computer, MiB (the kernel's VmHWM of the process).
    private static async Task<double> PeakRssMiBAsync(BenchContext context, Guid id)
    {
        var output = await context.Fixture.ExecAsync(id, "bash", "-c",
            "for p in /proc/[0-9]*; do case \"$(cat $p/comm 2>/dev/null)\" in raworc-host*) grep VmHWM $p/status;; esac; done");
        var kib = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields is ["VmHWM:", _, "kB"])
            .Sum(fields => double.Parse(fields[1], CultureInfo.InvariantCulture));
        return kib > 0 ? kib / 1024 : throw new BenchmarkException($"no Host agent process found in the computer of {id}: {output}");
    }
}
