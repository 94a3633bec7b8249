using Microsoft.Extensions.AI;

namespace Raworc.HostAgent.Model;

/// <summary>
/// The Anthropic Messages protocol (<c>POST {base}/v1/messages</c>, <c>x-api-key</c>, <c>anthropic-version: 2023-06-01</c>)
/// as an <see cref="IChatClient"/>: text, tool use and tool results, no streaming. The agent speaks it itself rather than
/// through Anthropic's SDK, which cannot be compiled ahead of time (see the README, "Host agent start").
/// </summary>
/// <param name="http">From <see cref="ModelHttp.CreateClient"/>; owned by this client.</param>
/// <param name="baseUrl">The provider's origin or the session's gateway address (the path <c>v1/messages</c> is added).</param>
/// <param name="apiKey">The key, or the Host token through the gateway.</param>
/// <param name="model">The model used when the options name none.</param>
/// <param name="maxTokens">The most tokens of an answer when the options set none (the protocol requires a number).</param>
internal sealed class AnthropicChatClient(HttpClient http, Uri baseUrl, string apiKey, string model, int maxTokens)
    : ProviderChatClient(http, new ChatClientMetadata(ModelOptions.Anthropic, baseUrl, model))
{
    /// <summary>The protocol version sent in <c>anthropic-version</c>.</summary>
    public const string ProtocolVersion = "2023-06-01";

    /// <summary>Anthropic's public origin, used when no base URL is configured.</summary>
    public static readonly Uri PublicOrigin = new("https://api.anthropic.com/");

    private readonly Uri _messagesUrl = new(WithSlash(baseUrl), "v1/messages");

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var history = messages.ToList();
        var tools = Functions(options).Select(f => new AnthropicTool(f.Name, f.Description, Schema(f))).ToList();
        var request = new AnthropicRequest(options?.ModelId ?? model, options?.MaxOutputTokens ?? maxTokens, Conversation(history))
        {
            System = SystemText(history, options),
            Tools = tools.Count == 0 ? null : tools,
            ToolChoice = tools.Count == 0 ? null : new AnthropicToolChoice(options?.ToolMode is RequiredChatToolMode ? "any" : "auto"),
            Temperature = options?.Temperature,
            StopSequences = options?.StopSequences,
        };
        var answer = await PostAsync(_messagesUrl, request, ProviderJson.Default.AnthropicRequest, ProviderJson.Default.AnthropicResponse, headers =>
        {
            headers.Add("x-api-key", apiKey);
            headers.Add("anthropic-version", ProtocolVersion);
        }, cancellationToken);

        var contents = new List<AIContent>();
        foreach (var block in answer.Content ?? [])
        {
            switch (block.Type)
            {
                case "text" when block.Text is { } text:
                    contents.Add(new TextContent(text));
                    break;
                case "tool_use" when block is { Id: { } id, Name: { } name }:
                    contents.Add(new FunctionCallContent(id, name, Arguments(block.Input)));
                    break;
            }
        }

        return new ChatResponse(new ChatMessage(ChatRole.Assistant, contents) { MessageId = answer.Id })
        {
            ResponseId = answer.Id,
            ModelId = answer.Model,
            FinishReason = answer.StopReason switch
            {
                "end_turn" or "stop_sequence" => ChatFinishReason.Stop,
                "max_tokens" => ChatFinishReason.Length,
                "tool_use" => ChatFinishReason.ToolCalls,
                "refusal" => ChatFinishReason.ContentFilter,
                null => null,
                var other => new ChatFinishReason(other),
            },
            Usage = Usage(answer.Usage?.InputTokens, answer.Usage?.OutputTokens, null),
        };
    }

    // User turns carry text and tool results, assistant turns text and tool use; consecutive turns of one role are
    // merged, so that the results of one round of tool calls form the single user turn the protocol expects.
    private static List<AnthropicMessage> Conversation(IEnumerable<ChatMessage> messages)
    {
        var conversation = new List<AnthropicMessage>();
        foreach (var message in messages.Where(m => m.Role != ChatRole.System))
        {
            var role = message.Role == ChatRole.Assistant ? "assistant" : "user";
            var blocks = new List<AnthropicBlock>();
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextContent { Text.Length: > 0 } text:
                        blocks.Add(new AnthropicBlock("text") { Text = text.Text });
                        break;
                    case FunctionCallContent call:
                        blocks.Add(new AnthropicBlock("tool_use") { Id = call.CallId, Name = call.Name, Input = ArgumentsJson(call) });
                        break;
                    case FunctionResultContent result:
                        blocks.Add(new AnthropicBlock("tool_result")
                        {
                            ToolUseId = result.CallId,
                            Content = ResultText(result),
                            IsError = result.Exception is null ? null : true,
                        });
                        break;
                }
            }

            if (blocks.Count == 0)
            {
                continue;
            }

            if (conversation.Count > 0 && conversation[^1].Role == role)
            {
                conversation[^1].Content.AddRange(blocks);
            }
            else
            {
                conversation.Add(new AnthropicMessage(role, blocks));
            }
        }

        return conversation;
    }

    private static Uri WithSlash(Uri url) => url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
}
