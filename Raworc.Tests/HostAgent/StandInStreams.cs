using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Raworc.Tests.HostAgent;

/// <summary>The server-sent-event answers of both protocols (a text answer in two parts), as the stand-in streams them.</summary>
internal static class StandInStreams
{
    /// <summary>
    /// Streams <paramref name="first"/>, flushes, waits for <paramref name="release"/> (at most 30 s), then streams
    /// <paramref name="rest"/> and the end. Usage: Anthropic in <c>message_start</c> and <c>message_delta</c>; OpenAI in a
    /// last chunk only when the request asked for <c>stream_options.include_usage</c>.
    /// </summary>
    public static async Task WriteAsync(HttpContext context, string protocol, JsonObject request, string model, string id,
        string first, string rest, Task release, (long In, long Out) usage)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        var anthropic = protocol == "anthropic";
        if (anthropic)
        {
            await EventAsync(context, "message_start", new JsonObject
            {
                ["type"] = "message_start",
                ["message"] = new JsonObject
                {
                    ["id"] = "msg_" + id, ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = new JsonArray(),
                    ["stop_reason"] = null, ["usage"] = new JsonObject { ["input_tokens"] = usage.In, ["output_tokens"] = 1 },
                },
            });
            await EventAsync(context, "content_block_start", new JsonObject
            {
                ["type"] = "content_block_start", ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" },
            });
        }
        await TextAsync(context, anthropic, model, id, first);
        await release.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
        await TextAsync(context, anthropic, model, id, rest);
        if (anthropic)
        {
            await EventAsync(context, "content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 0 });
            await EventAsync(context, "message_delta", new JsonObject
            {
                ["type"] = "message_delta",
                ["delta"] = new JsonObject { ["stop_reason"] = "end_turn", ["stop_sequence"] = null },
                ["usage"] = new JsonObject { ["output_tokens"] = usage.Out },
            });
            await EventAsync(context, "message_stop", new JsonObject { ["type"] = "message_stop" });
            return;
        }
        await EventAsync(context, null, Chunk(model, id, new JsonObject(), "stop"));
        if (request["stream_options"]?["include_usage"]?.GetValue<bool>() == true)
        {
            var last = Chunk(model, id, null, null);
            last["usage"] = new JsonObject { ["prompt_tokens"] = usage.In, ["completion_tokens"] = usage.Out, ["total_tokens"] = usage.In + usage.Out };
            await EventAsync(context, null, last);
        }
        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static Task TextAsync(HttpContext context, bool anthropic, string model, string id, string text) => anthropic
        ? EventAsync(context, "content_block_delta", new JsonObject
        {
            ["type"] = "content_block_delta", ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = text },
        })
        : EventAsync(context, null, Chunk(model, id, new JsonObject { ["role"] = "assistant", ["content"] = text }, null));

    // An OpenAI chunk; with no delta, the usage chunk (no choices).
    private static JsonObject Chunk(string model, string id, JsonObject? delta, string? finishReason) => new()
    {
        ["id"] = "chatcmpl_" + id,
        ["object"] = "chat.completion.chunk",
        ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["model"] = model,
        ["choices"] = delta is null ? new JsonArray() : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason }),
    };

    private static async Task EventAsync(HttpContext context, string? name, JsonObject data)
    {
        var text = (name is null ? "" : $"event: {name}\n") + $"data: {data.ToJsonString()}\n\n";
        await context.Response.WriteAsync(text, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}
