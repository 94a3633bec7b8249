using Microsoft.Extensions.AI;

namespace Raworc.HostAgent.Model;

/// <summary>
/// The OpenAI chat-completions protocol (<c>POST {endpoint}/chat/completions</c>, bearer key), which OpenAI, Azure
/// OpenAI's v1 endpoint, Ollama and vLLM speak, as an <see cref="IChatClient"/>: text, function calls and their
/// results, no streaming. Spoken directly, like <see cref="AnthropicChatClient"/>, so the agent needs no provider SDK.
/// </summary>
/// <param name="http">From <see cref="ModelHttp.CreateClient"/>; owned by this client.</param>
/// <param name="endpoint">E.g. <c>https://api.openai.com/v1</c>, a local server's <c>/v1</c>, or the session's gateway address.</param>
/// <param name="apiKey">The key (any non-empty text for a local server), or the Host token through the gateway.</param>
/// <param name="model">The model used when the options name none.</param>
internal sealed class OpenAIChatClient(HttpClient http, Uri endpoint, string apiKey, string model)
    : ProviderChatClient(http, new ChatClientMetadata(ModelOptions.OpenAI, endpoint, model))
{
    /// <summary>OpenAI's public endpoint, used when no base URL is configured.</summary>
    public static readonly Uri PublicEndpoint = new("https://api.openai.com/v1");

    private readonly Uri _completionsUrl = new(new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/"), "chat/completions");

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var history = messages.ToList();
        var tools = Functions(options).Select(f => new OpenAITool("function", new OpenAIFunction(f.Name, f.Description, Schema(f)))).ToList();
        var request = new OpenAIRequest(options?.ModelId ?? model, Conversation(history, options))
        {
            Tools = tools.Count == 0 ? null : tools,
            ToolChoice = tools.Count == 0 ? null : options?.ToolMode is RequiredChatToolMode ? "required" : "auto",
            MaxCompletionTokens = options?.MaxOutputTokens,
            Temperature = options?.Temperature,
            Stop = options?.StopSequences,
        };
        var answer = await PostAsync(_completionsUrl, request, ProviderJson.Default.OpenAIRequest, ProviderJson.Default.OpenAIResponse,
            headers => headers.Authorization = new("Bearer", apiKey), cancellationToken);

        var choice = answer.Choices is [var first, ..] ? first : null;
        var contents = new List<AIContent>();
        if (choice?.Message?.Text is { Length: > 0 } text)
        {
            contents.Add(new TextContent(text));
        }

        foreach (var call in choice?.Message?.ToolCalls ?? [])
        {
            if (call is { Id: { } id, Function.Name: { } name })
            {
                contents.Add(new FunctionCallContent(id, name, Arguments(ParseArguments(call.Function.Arguments))));
            }
        }

        return new ChatResponse(new ChatMessage(ChatRole.Assistant, contents) { MessageId = answer.Id })
        {
            ResponseId = answer.Id,
            ModelId = answer.Model,
            FinishReason = choice?.FinishReason switch
            {
                "stop" => ChatFinishReason.Stop,
                "length" => ChatFinishReason.Length,
                "tool_calls" or "function_call" => ChatFinishReason.ToolCalls,
                "content_filter" => ChatFinishReason.ContentFilter,
                null => null,
                var other => new ChatFinishReason(other),
            },
            Usage = Usage(answer.Usage?.PromptTokens, answer.Usage?.CompletionTokens, answer.Usage?.TotalTokens),
        };
    }

    private static List<OpenAIMessage> Conversation(List<ChatMessage> messages, ChatOptions? options)
    {
        var conversation = new List<OpenAIMessage>();
        if (SystemText(messages, options) is { } system)
        {
            conversation.Add(new OpenAIMessage("system", system));
        }

        var withImages = ImageResults(messages);
        foreach (var message in messages.Where(m => m.Role != ChatRole.System))
        {
            // Each result is a message of its own, right after the assistant message that made the calls. A tool message
            // carries text only, so the screenshots of these results follow in one user message.
            var images = new System.Text.Json.Nodes.JsonArray();
            foreach (var result in message.Contents.OfType<FunctionResultContent>())
            {
                var sent = withImages.Contains(result.CallId);
                var omitted = !sent && ResultImages(result).Any() ? " (Its screenshot is no longer shown.)" : "";
                conversation.Add(new OpenAIMessage("tool", ResultText(result) + omitted) { ToolCallId = result.CallId });
                foreach (var image in sent ? ResultImages(result) : [])
                {
                    images.Add((System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject { ["type"] = "text", ["text"] = $"Screenshot of tool call {result.CallId}:" });
                    images.Add((System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
                    {
                        ["type"] = "image_url",
                        ["image_url"] = new System.Text.Json.Nodes.JsonObject { ["url"] = DataUrl(image) },
                    });
                }
            }

            if (images.Count > 0)
            {
                conversation.Add(new OpenAIMessage("user", images));
            }

            var text = string.Concat(message.Contents.OfType<TextContent>().Select(t => t.Text));
            var calls = message.Contents.OfType<FunctionCallContent>()
                .Select(call => new OpenAIToolCall(call.CallId, "function", new OpenAIFunctionCall(call.Name, ArgumentsJson(call).ToJsonString())))
                .ToList();
            if (message.Role == ChatRole.Assistant && (text.Length > 0 || calls.Count > 0))
            {
                conversation.Add(new OpenAIMessage("assistant", text.Length > 0 ? text : null) { ToolCalls = calls.Count > 0 ? calls : null });
            }
            else if (message.Role != ChatRole.Assistant && message.Role != ChatRole.Tool && text.Length > 0)
            {
                conversation.Add(new OpenAIMessage("user", text));
            }
        }

        return conversation;
    }

    // The protocol carries arguments as JSON text; text that is not a JSON object (a weak local model's) counts as none.
    private static System.Text.Json.Nodes.JsonObject? ParseArguments(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(text) as System.Text.Json.Nodes.JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
