using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using Npgsql;
using Raworc.ApiService.Sessions;

namespace Raworc.Benchmarks;

/// <summary>Issue 14's API figures: the API's own port, 1,000 long-poll watchers, and the session list over 100,000 rows.</summary>
internal static class ApiScaleBenchmarks
{
    public const string WatchOneName = "1,000 long-polls on one session: wake-up after the message is stored";
    public const string WatchSpreadName = "1,000 long-polls over 100 sessions: wake-up after the message is stored";
    public const string WatchTarget = "no error, p95 ≤ 100 ms";
    public const string ListFirstName = "`GET /sessions?limit=100`, 100,000 closed sessions: first page";
    public const string ListDeepName = "`GET /sessions`, 100,000 closed sessions: page at depth 50,000";
    public const string ListTarget = "flat: p50 ≤ 2× the first page before the 100,000";

    /// <summary>
    /// The address the API itself listens on (its ASPNETCORE_URLS under the AppHost), bypassing the development proxy,
    /// or null when the orchestrator does not tell.
    /// </summary>
    public static async Task<Uri?> DirectAddressAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var resource = await context.Fixture.App.ResourceNotifications.WaitForResourceAsync(ResourceNames.Api, _ => true, cancellationToken);
        var urls = resource.Snapshot.EnvironmentVariables.FirstOrDefault(e => e.Name == "ASPNETCORE_URLS")?.Value;
        var http = urls?.Split(';').FirstOrDefault(u => u.StartsWith("http://", StringComparison.Ordinal));
        return http is null ? null : new Uri(http.Replace("+", "localhost").Replace("*", "localhost"));
    }

    /// <summary>
    /// <paramref name="watchers"/> long-polls (<c>wait=30</c>) spread evenly over <paramref name="sessions"/>, all waiting
    /// after each session's last message; then one Host message per session. Wake-up = the poll's answer − the message's
    /// <c>created_at</c> (one clock: the same machine).
    /// </summary>
    public static async Task<Figure> WatchersAsync(BenchContext context, Uri address, string name, IReadOnlyList<Guid> sessions, int watchers,
        CancellationToken cancellationToken)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = watchers + 64 })
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromSeconds(60),
            DefaultRequestHeaders = { Authorization = new("Bearer", context.Token) },
        };
        var last = new Dictionary<Guid, string?>();
        foreach (var id in sessions)
        {
            var page = JsonNode.Parse(await client.GetStringAsync($"/api/v0/sessions/{id}/messages?limit=1000", cancellationToken))!.AsArray();
            last[id] = page.Count == 0 ? null : (string?)page[^1]!["id"];
        }
        var polls = Enumerable.Range(0, watchers).Select(i => sessions[i % sessions.Count]).Select(id => Task.Run(async () =>
        {
            var after = last[id] is { } lastId ? $"after={lastId}&" : "";
            using var response = await client.GetAsync($"/api/v0/sessions/{id}/messages?{after}wait=30", cancellationToken);
            var arrived = DateTimeOffset.UtcNow;
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return (id, response.StatusCode, arrived, body);
        }, cancellationToken)).ToList();
        // Every poll is in its wait before the messages (the figure is the wake-up, not the poll's own start).
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(3, watchers / 200.0)), cancellationToken);
        var cpu = CpuSampler.Start();
        var stored = new Dictionary<Guid, DateTimeOffset>();
        // created_at → the post's 201 at the client: the commit, the Redis publish and the answer (where a wake-up that is
        // late for every waiter alike spends its time).
        var answered = new List<double>();
        foreach (var id in sessions)
        {
            // As the session's Host (no agent turn follows); a restored session's computer is a later start, whose Host
            // token the bench cannot forge, so that one gets the operator's message.
            using var host = context.Fixture.CreateHostClient(id);
            var response = await host.PostAsync($"/api/v0/sessions/{id}/messages",
                System.Net.Http.Json.JsonContent.Create(new { content = "wake" }), cancellationToken);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                response.Dispose();
                response = await client.PostAsync($"/api/v0/sessions/{id}/messages",
                    System.Net.Http.Json.JsonContent.Create(new { content = "wake" }), cancellationToken);
            }
            var message = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
            stored[id] = DateTimeOffset.Parse((string)message["created_at"]!, System.Globalization.CultureInfo.InvariantCulture);
            answered.Add((DateTimeOffset.UtcNow - stored[id]).TotalSeconds);
            response.Dispose();
        }
        var results = await Task.WhenAll(polls).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        var usage = cpu.Stop(1);
        var errors = results.Count(r => r.StatusCode != HttpStatusCode.OK || r.body == "[]");
        var wakeups = results.Where(r => r.StatusCode == HttpStatusCode.OK && r.body != "[]")
            .Select(r => Math.Max(0, (r.arrived - stored[r.id]).TotalSeconds)).ToList();
        var firstError = results.FirstOrDefault(r => r.StatusCode != HttpStatusCode.OK);
        var p95 = wakeups.Count > 0 ? Stats.P95(wakeups) : double.NaN;
        return new Figure(name, WatchTarget, wakeups.Count > 0 ? Stats.Millis(Stats.P50(wakeups)) : "—", wakeups.Count > 0 ? Stats.Millis(p95) : "—",
            wakeups.Count, errors == 0 && p95 <= 0.1,
            $"{watchers} polls over {sessions.Count} session(s) through {address.Authority}; {errors} errors or empty answers" +
            (firstError.body is null ? "" : $" (first: {(int)firstError.StatusCode})") +
            $"; min {Stats.Millis(wakeups.DefaultIfEmpty(0).Min())}, max {Stats.Millis(wakeups.DefaultIfEmpty(0).Max())}; " +
            $"created_at → the post's 201 p50 {Stats.Millis(Stats.P50(answered))}; {usage}");
    }

    /// <summary>Inserts <paramref name="rows"/> closed sessions of the bench operator straight into Postgres.</summary>
    public static async Task InsertClosedSessionsAsync(BenchContext context, string operatorName, int rows, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(await context.Fixture.App.GetConnectionStringAsync(ResourceNames.Database, cancellationToken));
        await connection.OpenAsync(cancellationToken);
        await using var insert = new NpgsqlCommand("""
            INSERT INTO sessions (id, created_by, created_by_type, created_by_operator_id, state, created_at, last_activity_at, closed_at,
                                  metadata, is_published, publish_data, publish_code, publish_secrets, timeout_seconds, secret_names,
                                  computer_start, usage_input_tokens, usage_model_calls, usage_output_tokens)
            SELECT gen_random_uuid(), o.name, 'Operator', o.id, 'closed', now() - make_interval(secs => 86400 + n), now() - make_interval(secs => n),
                   now() - make_interval(secs => n), '{"bench":"history"}', false, true, true, false, 300, '{}', 1, 0, 0, 0
            FROM operators o, generate_series(1, @rows) n WHERE o.name = @name
            """, connection);
        insert.Parameters.AddWithValue("rows", rows);
        insert.Parameters.AddWithValue("name", operatorName);
        insert.CommandTimeout = 300;
        await insert.ExecuteNonQueryAsync(cancellationToken);
        await using var analyze = new NpgsqlCommand("ANALYZE sessions", connection);
        await analyze.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Removes the rows <see cref="InsertClosedSessionsAsync"/> made.</summary>
    public static async Task DeleteInsertedAsync(BenchContext context, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(await context.Fixture.App.GetConnectionStringAsync(ResourceNames.Database, cancellationToken));
        await connection.OpenAsync(cancellationToken);
        await using var delete = new NpgsqlCommand("""DELETE FROM sessions WHERE metadata = '{"bench":"history"}'""", connection);
        delete.CommandTimeout = 300;
        await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Times <paramref name="count"/> sequential GETs of the first page of 100 (with its <c>X-Total-Count</c>), in seconds.</summary>
    public static async Task<List<double>> TimeFirstPageAsync(BenchContext context, Uri address, int count, CancellationToken cancellationToken)
    {
        using var client = Load.CreateClient(address, context.Token);
        return await TimeAsync(client, "/api/v0/sessions?limit=100", count, cancellationToken);
    }

    private static async Task<List<double>> TimeAsync(HttpClient client, string path, int count, CancellationToken cancellationToken)
    {
        var times = new List<double>();
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(path, cancellationToken);
            await response.Content.ReadAsByteArrayAsync(cancellationToken);
            response.EnsureSuccessStatusCode();
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return times;
    }

    /// <summary>
    /// Times <paramref name="count"/> sequential GETs of the first page, a page at offset 50,000 and the same depth by
    /// cursor; each row is judged against <paramref name="before"/>, the first page's times (<see cref="TimeFirstPageAsync"/>)
    /// taken before the 100,000 sessions were written.
    /// </summary>
    public static async Task<IReadOnlyList<Figure>> ListAsync(BenchContext context, Uri address, int count, List<double> before,
        CancellationToken cancellationToken)
    {
        using var client = Load.CreateClient(address, context.Token);
        // The cursor of the 50,000th session, read from the offset page that ends there.
        using var edge = await client.GetAsync("/api/v0/sessions?limit=1&offset=49999", cancellationToken);
        var edgeSession = JsonNode.Parse(await edge.Content.ReadAsStringAsync(cancellationToken))!.AsArray()[0]!;
        var cursor = new SessionCursor(DateTimeOffset.Parse((string)edgeSession["created_at"]!, System.Globalization.CultureInfo.InvariantCulture),
            Guid.Parse((string)edgeSession["id"]!));
        // created_at is shown in milliseconds: the cursor of a row whose time has finer digits lands a row or two away, which
        // does not change the cost being measured.
        var total = edge.Headers.TryGetValues("X-Total-Count", out var values) ? values.Single() : "?";
        var first = await TimeAsync(client, "/api/v0/sessions?limit=100", count, cancellationToken);
        var offset = await TimeAsync(client, "/api/v0/sessions?limit=100&offset=50000", count, cancellationToken);
        var keyset = await TimeAsync(client, $"/api/v0/sessions?limit=100&after={cursor}", count, cancellationToken);
        var floor = Stats.P50(before);
        Figure Judged(string name, List<double> times, string note) =>
            new(name, ListTarget, Stats.Millis(Stats.P50(times)), Stats.Millis(Stats.P95(times)), times.Count, Stats.P50(times) <= 2 * floor, note)
            {
                Floor = $"{Stats.Millis(floor)} before",
                Ratio = FormattableString.Invariant($"{Stats.P50(times) / floor:0.0}× before"),
            };
        return
        [
            Judged(ListFirstName, first,
                $"X-Total-Count {total} (exact: the operator's row of session_totals, kept by triggers); {count} sequential requests; the same page before the 100,000 were written (the operator's sessions of the run only), p95 {Stats.Millis(Stats.P95(before))}"),
            Judged(ListDeepName, keyset,
                $"by cursor (after=, no count); by offset=50000 instead: p50 {Stats.Millis(Stats.P50(offset))}, p95 {Stats.Millis(Stats.P95(offset))}"),
        ];
    }
}
