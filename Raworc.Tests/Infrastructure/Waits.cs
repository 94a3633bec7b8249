using System.Text.Json.Nodes;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Infrastructure;

/// <summary>Polling helpers with a hard timeout, for what happens in the background.</summary>
public static class Waits
{
    /// <summary>
    /// Polls <c>GET /sessions/{id}</c> every 100 ms until the session is in <paramref name="state"/> (default timeout 60 s).
    /// A <c>503</c> on the way is waited out like any other poll, as the contract asks of a client (a dependency of the API
    /// was briefly unavailable; seen on a CI machine at load 27); any other answer but <c>200</c> fails at once.
    /// </summary>
    public static async Task<JsonObject> WaitForStateAsync(this HttpClient client, Guid id, string state, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        JsonObject? session;
        while ((session = await client.GetSessionOrUnavailableAsync(id.ToString())) is null || (string?)session["state"] != state)
        {
            if (cts.IsCancellationRequested)
            {
                Assert.Fail(session is null
                    ? $"session {id} answered 503 at the timeout, waiting for {state}"
                    : $"session {id} is {session["state"]} ({session["error"]}), not {state}, after the timeout");
            }
            await Task.Delay(100);
        }
        return session;
    }

    public static async Task<JsonArray> WaitForMessagesAsync(this HttpClient client, Guid id, Func<JsonArray, bool> done, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        JsonArray messages;
        while (!done(messages = await client.GetMessagesAsync(id.ToString())))
        {
            if (cts.IsCancellationRequested)
            {
                var session = await client.GetSessionAsync(id.ToString());
                Assert.Fail($"messages of {id} never matched (session {session["state"]}, error {session["error"]}): {messages.ToJsonString()}");
            }
            await Task.Delay(100);
        }
        return messages;
    }

    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (cts.IsCancellationRequested)
            {
                Assert.Fail($"timed out waiting until {what}");
            }
            await Task.Delay(100);
        }
    }

    public static bool HasResponse(this JsonArray messages) =>
        messages.Any(m => (string?)m!["role"] == "host" && (string?)m["metadata"]?["type"] == "response");
}
