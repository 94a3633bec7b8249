using System.Text;
using System.Text.Json.Nodes;

namespace Raworc.Tests.HostAgent;

/// <summary>The JSON of both provider protocols, as the stand-in reads and writes it.</summary>
internal static class StandInProtocols
{
    public static RecordedRequest ParseAnthropic(JsonObject body, string apiKey)
    {
        var messages = new List<(string, string)>();
        var results = new List<string>();
        foreach (var message in body["messages"]?.AsArray() ?? [])
        {
            var role = message!["role"]!.GetValue<string>();
            var text = new StringBuilder();
            if (message["content"] is JsonValue plain)
            {
                text.Append(plain.GetValue<string>());
            }

            foreach (var block in message["content"] as JsonArray ?? [])
            {
                switch (block!["type"]?.GetValue<string>())
                {
                    case "text":
                        text.Append(text.Length == 0 ? "" : "\n").Append(block["text"]!.GetValue<string>());
                        break;
                    case "tool_result":
                        results.Add(TextOf(block["content"]));
                        break;
                }
            }

            if (text.Length > 0)
            {
                messages.Add((role, text.ToString()));
            }
        }

        var tools = (body["tools"]?.AsArray() ?? []).Select(t => t!["name"]!.GetValue<string>()).ToList();
        return new RecordedRequest("anthropic", apiKey, TextOf(body["system"]), messages, results, tools, body);
    }

    public static RecordedRequest ParseOpenAI(JsonObject body, string apiKey)
    {
        var messages = new List<(string, string)>();
        var results = new List<string>();
        var system = new StringBuilder();
        foreach (var message in body["messages"]?.AsArray() ?? [])
        {
            var role = message!["role"]!.GetValue<string>();
            var text = TextOf(message["content"]);
            switch (role)
            {
                case "tool":
                    results.Add(text);
                    break;
                case "system" or "developer":
                    system.Append(text);
                    break;
                default:
                    if (text.Length > 0)
                    {
                        messages.Add((role, text));
                    }

                    break;
            }
        }

        var tools = (body["tools"]?.AsArray() ?? []).Select(t => t!["function"]!["name"]!.GetValue<string>()).ToList();
        return new RecordedRequest("openai", apiKey, system.ToString(), messages, results, tools, body);
    }

    /// <summary>
    /// Every image in a request of either protocol, decoded: Anthropic <c>image</c> blocks (base64 sources, inside tool
    /// results or not) and OpenAI <c>image_url</c> parts with a base64 <c>data:</c> URL.
    /// </summary>
    public static IReadOnlyList<byte[]> Images(JsonObject body)
    {
        var images = new List<byte[]>();
        void Visit(JsonNode? node)
        {
            if (node is JsonArray array)
            {
                foreach (var child in array)
                {
                    Visit(child);
                }
                return;
            }
            if (node is not JsonObject block)
            {
                return;
            }
            var type = block["type"] is JsonValue value && value.TryGetValue<string>(out var name) ? name : null;
            var source = block["source"] as JsonObject;
            var url = (block["image_url"] as JsonObject)?["url"]?.GetValue<string>() ?? "";
            var at = url.IndexOf(";base64,", StringComparison.Ordinal);
            if (type == "image" && source?["data"] is JsonValue data)
            {
                images.Add(Convert.FromBase64String(data.GetValue<string>()));
            }
            else if (type == "image_url" && at > 0)
            {
                images.Add(Convert.FromBase64String(url[(at + ";base64,".Length)..]));
            }
            else
            {
                foreach (var (_, child) in block)
                {
                    Visit(child);
                }
            }
        }

        Visit(body["messages"]);
        return images;
    }

    public static JsonObject AnthropicToolUse(string model, string id, string name, JsonObject arguments, (long In, long Out) usage) =>
        AnthropicMessage(model, id, "tool_use", usage, new JsonObject { ["type"] = "tool_use", ["id"] = id, ["name"] = name, ["input"] = arguments.DeepClone() });

    public static JsonObject AnthropicText(string model, string id, string text, (long In, long Out) usage) =>
        AnthropicMessage(model, id, "end_turn", usage, new JsonObject { ["type"] = "text", ["text"] = text });

    public static JsonObject OpenAIToolCall(string model, string id, string name, JsonObject arguments, (long In, long Out) usage) =>
        OpenAICompletion(model, id, "tool_calls", usage, new JsonObject
        {
            ["role"] = "assistant",
            ["content"] = null,
            ["tool_calls"] = new JsonArray(new JsonObject
            {
                ["id"] = id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments.ToJsonString() },
            }),
        });

    public static JsonObject OpenAIText(string model, string id, string text, (long In, long Out) usage) =>
        OpenAICompletion(model, id, "stop", usage, new JsonObject { ["role"] = "assistant", ["content"] = text });

    public static JsonObject Error(string protocol, int status, string message)
    {
        var type = status switch
        {
            401 => "authentication_error",
            429 => "rate_limit_error",
            >= 500 => "api_error",
            _ => "invalid_request_error",
        };
        return protocol == "anthropic"
            ? new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = type, ["message"] = message } }
            : new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["code"] = status.ToString() } };
    }

    private static JsonObject AnthropicMessage(string model, string id, string stopReason, (long In, long Out) usage, JsonObject block) => new()
    {
        ["id"] = "msg_" + id,
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = model,
        ["content"] = new JsonArray(block),
        ["stop_reason"] = stopReason,
        ["stop_sequence"] = null,
        ["usage"] = new JsonObject { ["input_tokens"] = usage.In, ["output_tokens"] = usage.Out },
    };

    private static JsonObject OpenAICompletion(string model, string id, string finishReason, (long In, long Out) usage, JsonObject message) => new()
    {
        ["id"] = "chatcmpl_" + id,
        ["object"] = "chat.completion",
        ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["model"] = model,
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finishReason, ["logprobs"] = null }),
        ["usage"] = new JsonObject { ["prompt_tokens"] = usage.In, ["completion_tokens"] = usage.Out, ["total_tokens"] = usage.In + usage.Out },
    };

    // Content is a string or an array of text blocks in both protocols.
    private static string TextOf(JsonNode? content) => content switch
    {
        null => "",
        JsonValue value => value.GetValue<string>(),
        JsonArray blocks => string.Concat(blocks.Select(b => b?["text"]?.GetValue<string>() ?? "")),
        _ => content.ToJsonString(),
    };
}
