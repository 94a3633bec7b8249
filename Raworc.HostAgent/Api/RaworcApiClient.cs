using System.Net.Http.Json;
using System.Text.Json;

namespace Raworc.HostAgent.Api;

/// <summary>
/// The API endpoints the Host uses (spec/API.md), for one session, with the Host token as bearer. The HttpClient's
/// <c>BaseAddress</c> is the API's origin (e.g. <c>http://127.0.0.1:9000/</c>); paths start with <c>api/v0/</c>.
/// Errors surface as <see cref="RaworcApiException"/> or <see cref="HttpRequestException"/>.
/// </summary>
/// <param name="http">Configured by <see cref="HostAgentSetup.Create"/> (base address, bearer token, timeout).</param>
/// <param name="options">Names the session.</param>
public sealed class RaworcApiClient(HttpClient http, AgentOptions options)
{
    /// <summary>The page size used to load the whole history (the API's maximum).</summary>
    public const int PageSize = 1000;

    private string Messages => $"api/v0/sessions/{Uri.EscapeDataString(options.SessionId)}/messages";

    /// <summary><c>GET …/messages?after=&amp;wait=&amp;limit=&amp;offset=</c>: one page, oldest first.</summary>
    /// <param name="after">Only messages after this message id; null for all.</param>
    /// <param name="waitSeconds">0…30: hold the request until a message exists or the time is up (then empty).</param>
    /// <param name="limit">1…1000.</param>
    /// <param name="offset">≥ 0.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<IReadOnlyList<SessionMessage>> GetMessagesAsync(string? after, int waitSeconds, int limit, int offset, CancellationToken cancellationToken) =>
        (await GetPageAsync(after, waitSeconds, limit, offset, cancellationToken)).Messages;

    /// <summary>Loads every message after <paramref name="after"/> (all when null), page by page, oldest first.</summary>
    public async Task<IReadOnlyList<SessionMessage>> GetAllMessagesAsync(string? after, CancellationToken cancellationToken)
    {
        var all = new List<SessionMessage>();
        while (true)
        {
            var (page, truncated) = await GetPageAsync(after, 0, PageSize, all.Count, cancellationToken);
            all.AddRange(page);
            // A page ends early either at the end of the history or, with X-Page-Truncated, at the API's size bound.
            if (page.Count == 0 || (page.Count < PageSize && !truncated))
            {
                return all;
            }
        }
    }

    /// <summary>
    /// <c>GET …/messages?order=desc&amp;before=&amp;limit=</c>: the newest messages before <paramref name="before"/> (before
    /// none when null), <b>newest first</b>; how the agent reads the tail of a long history without the rest.
    /// </summary>
    /// <returns>The page, and whether the API cut it by size (<c>X-Page-Truncated</c>): a page shorter than
    /// <paramref name="limit"/> and not cut means there is nothing older.</returns>
    public Task<(IReadOnlyList<SessionMessage> Messages, bool Truncated)> GetOlderMessagesAsync(string? before, int limit, CancellationToken cancellationToken) =>
        GetPageAsync($"?order=desc&limit={limit}" + (before is null ? "" : $"&before={Uri.EscapeDataString(before)}"), cancellationToken);

    private Task<(IReadOnlyList<SessionMessage> Messages, bool Truncated)> GetPageAsync(string? after, int waitSeconds, int limit, int offset, CancellationToken cancellationToken) =>
        GetPageAsync($"?limit={limit}&offset={offset}&wait={waitSeconds}" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}"), cancellationToken);

    private async Task<(IReadOnlyList<SessionMessage> Messages, bool Truncated)> GetPageAsync(string query, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(Messages + query, cancellationToken);
        await EnsureSuccessAsync(response, "GET messages", cancellationToken);
        var truncated = response.Headers.TryGetValues("X-Page-Truncated", out var values) && values.Contains("true", StringComparer.OrdinalIgnoreCase);
        return (await response.Content.ReadFromJsonAsync(ApiJson.Default.ListSessionMessage, cancellationToken) ?? [], truncated);
    }

    /// <summary>
    /// <c>POST …/messages</c> with <c>{"content","metadata"}</c> and the message's <c>Idempotency-Key</c>; returns the stored
    /// (host) message. Posting the same <paramref name="message"/> again stores nothing new: the API answers the message its
    /// first post stored.
    /// </summary>
    public async Task<SessionMessage> PostMessageAsync(NewMessage message, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Messages) { Content = JsonContent.Create(message, ApiJson.Default.NewMessage) };
        request.Headers.Add(MessageLimits.IdempotencyKeyHeader, message.IdempotencyKey);
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, "POST message", cancellationToken);
        return await response.Content.ReadFromJsonAsync(ApiJson.Default.SessionMessage, cancellationToken)
            ?? throw new RaworcApiException(response.StatusCode, null, "POST message returned no message.");
    }

    /// <summary><c>POST …/busy</c>: the agent starts a turn.</summary>
    public Task MarkBusyAsync(CancellationToken cancellationToken) => PostStateAsync("busy", cancellationToken);

    /// <summary><c>POST …/idle</c>: the agent finished a turn (from <c>busy</c>).</summary>
    public Task MarkIdleAsync(CancellationToken cancellationToken) => PostStateAsync("idle", cancellationToken);

    /// <summary>
    /// <c>POST …/idle</c> with <c>{"setup":{"result","exit_code","timeout_seconds"}}</c>: the agent is ready (from
    /// <c>init</c>); the API posts a failed or timed-out setup to the user from <paramref name="setup"/>.
    /// </summary>
    public Task ReportReadyAsync(SetupOutcome? setup, CancellationToken cancellationToken) =>
        PostStateAsync("idle", cancellationToken, JsonContent.Create(new ReadyReport(setup), ApiJson.Default.ReadyReport));

    private async Task PostStateAsync(string state, CancellationToken cancellationToken, HttpContent? body = null)
    {
        using var response = await http.PostAsync($"api/v0/sessions/{Uri.EscapeDataString(options.SessionId)}/{state}", body, cancellationToken);
        await EnsureSuccessAsync(response, $"POST {state}", cancellationToken);
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string request, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        ApiErrorBody? error = null;
        try
        {
            error = (await response.Content.ReadFromJsonAsync(ApiJson.Default.ApiError, cancellationToken))?.Error;
        }
        catch (JsonException)
        {
            // Not the API's envelope (a proxy's page, say): the status says enough.
        }

        throw new RaworcApiException(response.StatusCode, error?.Code,
            $"{request} answered {(int)response.StatusCode}{(error?.Code is null ? "" : " " + error.Code)}{(error?.Message is null ? "" : ": " + error.Message)}");
    }
}
