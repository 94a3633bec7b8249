using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Raworc.Benchmarks;

/// <summary>
/// The REST calls of the benchmarks, as one operator. Every session created here is remembered with its own
/// stand-in model key, so that the run can script its answers and delete it at the end.
/// </summary>
internal sealed class BenchApi(HttpClient client)
{
    private readonly ConcurrentDictionary<Guid, string> _created = new();

    public HttpClient Client => client;

    /// <summary>Every session this run created and has not deleted yet, with its model key.</summary>
    public IReadOnlyDictionary<Guid, string> Created => _created;

    public string KeyOf(Guid id) => _created[id];

    /// <summary>Creates a session with its own <c>OPENAI_API_KEY</c> secret (a desktop one when asked); returns it in <c>init</c>.</summary>
    public async Task<SessionView> CreateAsync(int timeoutSeconds, CancellationToken cancellationToken, bool desktop = false)
    {
        var key = $"bench-{Guid.NewGuid():N}";
        var response = await client.PostAsJsonAsync("/api/v0/sessions",
            new { secrets = new Dictionary<string, string> { ["OPENAI_API_KEY"] = key }, timeout_seconds = timeoutSeconds, desktop }, cancellationToken);
        var session = SessionView.From(await ReadAsync<JsonObject>(response, HttpStatusCode.Created, cancellationToken));
        _created[session.Id] = key;
        return session;
    }

    public async Task<SessionView> GetAsync(Guid id, CancellationToken cancellationToken) =>
        SessionView.From(await ReadAsync<JsonObject>(await client.GetAsync($"/api/v0/sessions/{id}", cancellationToken), HttpStatusCode.OK, cancellationToken));

    /// <summary>Polls every <paramref name="poll"/> until the session is in <paramref name="state"/>; an <c>errored</c> session or the timeout throws.</summary>
    public async Task<SessionView> WaitForStateAsync(Guid id, string state, TimeSpan poll, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var session = await GetAsync(id, cancellationToken);
            if (session.State == state)
            {
                return session;
            }
            if (session.State == "errored" && state != "errored")
            {
                throw new BenchmarkException($"session {id} errored: {session.Error}");
            }
            if (Stopwatch.GetElapsedTime(started) > timeout)
            {
                throw new BenchmarkException($"session {id} was still {session.State}, not {state}, after {timeout.TotalSeconds:0} s");
            }
            await Task.Delay(poll, cancellationToken);
        }
    }

    /// <summary>Posts a user message, with <paramref name="traceParent"/> as its <c>traceparent</c> header when given (its trace is then found by id).</summary>
    public async Task<MessageView> PostMessageAsync(Guid id, string content, CancellationToken cancellationToken, string? traceParent = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v0/sessions/{id}/messages") { Content = JsonContent.Create(new { content }) };
        if (traceParent is not null)
        {
            request.Headers.Add("traceparent", traceParent);
        }
        return MessageView.From(await ReadAsync<JsonObject>(await client.SendAsync(request, cancellationToken), HttpStatusCode.Created, cancellationToken));
    }

    /// <summary>Long-polls for messages after <paramref name="after"/> (the API holds the request up to <paramref name="waitSeconds"/>).</summary>
    public async Task<IReadOnlyList<MessageView>> MessagesAfterAsync(Guid id, Guid after, int waitSeconds, CancellationToken cancellationToken) =>
        [.. (await ReadAsync<JsonArray>(await client.GetAsync($"/api/v0/sessions/{id}/messages?after={after}&wait={waitSeconds}", cancellationToken),
            HttpStatusCode.OK, cancellationToken)).Select(m => MessageView.From(m!))];

    public async Task<SessionView> PostActionAsync(Guid id, string action, CancellationToken cancellationToken) =>
        SessionView.From(await ReadAsync<JsonObject>(
            await client.PostAsJsonAsync($"/api/v0/sessions/{id}/{action}", new { }, cancellationToken), HttpStatusCode.OK, cancellationToken));

    public async Task DeleteAsync(Guid id, CancellationToken cancellationToken)
    {
        var response = await client.DeleteAsync($"/api/v0/sessions/{id}", cancellationToken);
        if (response.StatusCode is not (HttpStatusCode.NoContent or HttpStatusCode.NotFound))
        {
            throw new BenchmarkException($"DELETE of session {id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
        _created.TryRemove(id, out _);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, HttpStatusCode expected, CancellationToken cancellationToken) where T : JsonNode
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode != expected)
            {
                throw new BenchmarkException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery}: {(int)response.StatusCode} {text}");
            }
            return JsonNode.Parse(text) as T ?? throw new BenchmarkException($"unexpected body: {text}");
        }
    }
}

/// <summary>A phase could not measure what it set out to (the run goes on with the next phase).</summary>
internal sealed class BenchmarkException(string message) : Exception(message);
