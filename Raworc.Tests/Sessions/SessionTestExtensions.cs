using System.Net;
using System.Text.Json.Nodes;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Sessions;

public static class SessionTestExtensions
{
    public static async Task<JsonObject> CreateSessionAsync(this HttpClient client, object? body = null)
    {
        var response = await client.PostAsync("/api/v0/sessions", Http.Json(body ?? new { }));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.ReadObjectAsync();
    }

    public static async Task<JsonObject> GetSessionAsync(this HttpClient client, string id) =>
        await ReadSessionAsync(await client.GetAsync($"/api/v0/sessions/{id}"));

    /// <summary>As <see cref="GetSessionAsync"/>, but null for a <c>503</c> (the API's "try again"), for polls that wait anyway.</summary>
    public static async Task<JsonObject?> GetSessionOrUnavailableAsync(this HttpClient client, string id)
    {
        var response = await client.GetAsync($"/api/v0/sessions/{id}");
        return response.StatusCode == HttpStatusCode.ServiceUnavailable ? null : await ReadSessionAsync(response);
    }

    // The session of a GET's 200; any other answer fails with its body.
    private static async Task<JsonObject> ReadSessionAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.ReadObjectAsync();
    }

    public static async Task<JsonArray> GetMessagesAsync(this HttpClient client, string id, string query = "")
    {
        var response = await client.GetAsync($"/api/v0/sessions/{id}/messages{query}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.ReadArrayAsync();
    }

    public static async Task<JsonObject> PostOkAsync(this HttpClient client, string path, object? body = null)
    {
        var response = await client.PostAsync(path, Http.Json(body ?? new { }));
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.ReadObjectAsync();
    }

    public static Guid Id(this JsonObject session) => Guid.Parse((string)session["id"]!);

    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..10]}";
}
