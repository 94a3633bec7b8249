using System.Globalization;
using Raworc.Client.Models;

namespace Raworc.Client;

public sealed partial class RaworcClient
{
    /// <summary>
    /// <c>GET /sessions</c>: the caller's sessions (an admin's: all), newest first.
    /// An unknown <paramref name="state"/>, or <paramref name="limit"/> outside 1…1000, is a 400 <c>BAD_REQUEST</c>.
    /// </summary>
    /// <param name="state">Only sessions in this state (<see cref="SessionStates"/>), or null for all.</param>
    /// <param name="limit">Page size, 1…1000 (server default 100).</param>
    /// <param name="offset">Sessions to skip.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<Page<Session>> ListSessionsAsync(string? state = null, int? limit = null, int? offset = null, CancellationToken cancellationToken = default)
    {
        var query = Query(("state", state), ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("offset", offset?.ToString(CultureInfo.InvariantCulture)));
        using var response = await SendAsync(HttpMethod.Get, "sessions" + query, null, cancellationToken);
        var items = await ReadAsync(response, WireJson.Default.ListSession, cancellationToken);
        return new Page<Session>(items, Header(response, "X-Total-Count", items.Count), Header(response, "X-Page-Offset", offset ?? 0),
            Header(response, "X-Page-Limit", limit ?? items.Count));
    }

    /// <summary><c>POST /sessions</c> → the new session, in <c>init</c>. Invalid values: 422 <c>VALIDATION_ERROR</c>; a taken name: 409.</summary>
    /// <param name="request">What to create; every field optional.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<Session> CreateSessionAsync(CreateSessionRequest? request = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "sessions", Body(request ?? new CreateSessionRequest(), WireJson.Default.CreateSessionRequest),
            WireJson.Default.Session, cancellationToken);

    /// <summary><c>GET /sessions/{session}</c>; 404 <c>NOT_FOUND</c> when it does not exist or is not the caller's to see.</summary>
    /// <param name="session">The session's UUID or name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<Session> GetSessionAsync(string session, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, SessionPath(session), null, WireJson.Default.Session, cancellationToken);

    /// <summary><c>POST /sessions/{session}/close</c>: stops the computer, keeps files and history. Already closed: 409 <c>CONFLICT</c>.</summary>
    /// <param name="session">The session's UUID or name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<Session> CloseSessionAsync(string session, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, SessionPath(session) + "/close", Body(new EmptyBody(), WireJson.Default.EmptyBody), WireJson.Default.Session, cancellationToken);

    /// <summary>
    /// <c>POST /sessions/{session}/restore</c>: a closed or errored session starts a new computer on its volume (back in
    /// <c>init</c>). Owner only (403 for an admin); from another state 409 <c>CONFLICT</c>.
    /// </summary>
    /// <param name="session">The session's UUID or name.</param>
    /// <param name="prompt">A user message posted once restored, or null.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<Session> RestoreSessionAsync(string session, string? prompt = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, SessionPath(session) + "/restore", Body(new RestoreBody(prompt), WireJson.Default.RestoreBody),
            WireJson.Default.Session, cancellationToken);

    /// <summary><c>DELETE /sessions/{session}</c> (204): the row and messages at once, the computer and volume right after.</summary>
    /// <param name="session">The session's UUID or name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task DeleteSessionAsync(string session, CancellationToken cancellationToken = default)
    {
        using var _ = await SendAsync(HttpMethod.Delete, SessionPath(session), null, cancellationToken);
    }

    private static string SessionPath(string session) => "sessions/" + Escape(session);

    private static string Query(params (string Name, string? Value)[] parameters)
    {
        var given = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToArray();
        return given.Length == 0 ? "" : "?" + string.Join('&', given);
    }
}
