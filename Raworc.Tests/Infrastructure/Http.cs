using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Raworc.Tests.Infrastructure;

/// <summary>Small helpers to read JSON responses in tests.</summary>
public static class Http
{
    /// <summary>Reads the body as a JSON object.</summary>
    public static async Task<JsonObject> ReadObjectAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonNode>())?.AsObject()
        ?? throw new InvalidOperationException("The response body is empty.");

    /// <summary>Reads the body as a JSON array.</summary>
    public static async Task<JsonArray> ReadArrayAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonNode>())?.AsArray()
        ?? throw new InvalidOperationException("The response body is empty.");

    /// <summary>Asserts the contract's error envelope with the given code and returns the error object.</summary>
    public static async Task<JsonObject> AssertErrorAsync(this HttpResponseMessage response, int status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString());
        var error = JsonNode.Parse(text)!["error"]!.AsObject();
        Assert.Equal(code, (string?)error["code"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
        return error;
    }

    /// <summary>A JSON body from raw text (for malformed-input tests).</summary>
    public static StringContent RawJson(string text) => new(text, System.Text.Encoding.UTF8, "application/json");

    /// <summary>Serialises an anonymous object as the request body.</summary>
    public static JsonContent Json(object value) => JsonContent.Create(value, options: new JsonSerializerOptions());
}
