using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Models;

/// <summary>Calls of the model gateway the way the provider SDKs make them, and reading a session's usage.</summary>
public static class GatewayCalls
{
    public static HttpRequestMessage Anthropic(Guid session, JsonObject body) =>
        new(HttpMethod.Post, $"/api/v0/sessions/{session}/model/anthropic/v1/messages") { Content = JsonContent.Create(body) };

    public static HttpRequestMessage OpenAI(Guid session, JsonObject body) =>
        new(HttpMethod.Post, $"/api/v0/sessions/{session}/model/openai/chat/completions") { Content = JsonContent.Create(body) };

    public static JsonObject AnthropicBody(string text, bool stream = false) => new()
    {
        ["model"] = "claude-test", ["max_tokens"] = 64, ["stream"] = stream,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }),
    };

    public static JsonObject OpenAIBody(string text, bool stream = false, bool includeUsage = false)
    {
        var body = new JsonObject
        {
            ["model"] = "gpt-test", ["stream"] = stream,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }),
        };
        if (includeUsage)
        {
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }
        return body;
    }

    /// <summary>The session's <c>usage</c> as (model_calls, input_tokens, output_tokens).</summary>
    public static async Task<(long Calls, long Input, long Output)> UsageAsync(this HttpClient owner, Guid session)
    {
        var usage = (await owner.GetSessionAsync(session.ToString()))["usage"]!;
        return ((long)usage["model_calls"]!, (long)usage["input_tokens"]!, (long)usage["output_tokens"]!);
    }

    /// <summary>
    /// Reads a streamed answer: returns once a line containing <paramref name="marker"/> has arrived (bounded by 30 s),
    /// then <paramref name="afterMarker"/> runs (the test releases the stand-in), then the rest is read to the end.
    /// </summary>
    public static async Task<string> ReadStreamAsync(HttpResponseMessage response, string marker, Action afterMarker)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token), Encoding.UTF8);
        var text = new StringBuilder();
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            text.Append(line).Append('\n');
            if (line.Contains(marker, StringComparison.Ordinal))
            {
                break;
            }
        }
        Assert.Contains(marker, text.ToString(), StringComparison.Ordinal);
        afterMarker();
        text.Append(await reader.ReadToEndAsync(timeout.Token));
        return text.ToString();
    }
}
