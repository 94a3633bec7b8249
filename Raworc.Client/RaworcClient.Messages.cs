using System.Globalization;
using System.Text.Json.Nodes;
using Raworc.Client.Models;

namespace Raworc.Client;

public sealed partial class RaworcClient
{
    /// <summary>
    /// <c>POST /sessions/{session}/messages</c> → the stored user message. A closed or errored session restores itself
    /// and the Host answers once it is up; the call returns at once. Content outside 1…100,000 characters: 422.
    /// </summary>
    /// <param name="session">The session's UUID or name.</param>
    /// <param name="content">The text.</param>
    /// <param name="metadata">An optional JSON object stored with it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<Message> PostMessageAsync(string session, string content, JsonObject? metadata = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, SessionPath(session) + "/messages", Body(new PostMessageBody(content, metadata), WireJson.Default.PostMessageBody),
            WireJson.Default.Message, cancellationToken);

    /// <summary>
    /// <c>GET /sessions/{session}/messages</c>, oldest first. With <paramref name="after"/> only later messages; with
    /// <paramref name="waitSeconds"/> (0…30) the call is held until one exists or the time is up (then empty).
    /// </summary>
    /// <param name="session">The session's UUID or name.</param>
    /// <param name="after">A message id, or null.</param>
    /// <param name="waitSeconds">Long-poll time, seconds, or null.</param>
    /// <param name="limit">Page size, 1…1000.</param>
    /// <param name="offset">Messages to skip.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<Message>> ListMessagesAsync(string session, Guid? after = null, int? waitSeconds = null, int? limit = null,
        int? offset = null, CancellationToken cancellationToken = default)
    {
        var query = Query(("after", after?.ToString()), ("wait", waitSeconds?.ToString(CultureInfo.InvariantCulture)),
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("offset", offset?.ToString(CultureInfo.InvariantCulture)));
        return await SendAsync(HttpMethod.Get, SessionPath(session) + "/messages" + query, null, WireJson.Default.ListMessage, cancellationToken);
    }

    /// <summary><c>GET /sessions/{session}/messages/count</c>: how many messages the session has.</summary>
    /// <param name="session">The session's UUID or name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<int> CountMessagesAsync(string session, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, SessionPath(session) + "/messages/count", null, WireJson.Default.MessageCount, cancellationToken)).Count;
}
