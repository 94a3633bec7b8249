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
/// <param name="computerTool">The computer-use tool type the <c>computer</c> tool is declared as (<see cref="ModelOptions.AnthropicComputerTool"/>).</param>
internal sealed class AnthropicChatClient(HttpClient http, Uri baseUrl, string apiKey, string model, int maxTokens,
    string computerTool = ModelOptions.DefaultAnthropicComputerTool)
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
        var tools = Functions(options).Select(Tool).ToList();
        var computerUse = tools.Any(t => t.Type is not null);
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
            if (computerUse)
            {
                headers.Add("anthropic-beta", BetaFlag(computerTool));
            }
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

    /// <summary>
    /// The beta flag that enables a computer-use tool type: <c>computer_YYYYMMDD</c> → <c>computer-use-YYYY-MM-DD</c>
    /// (<c>computer_20250124</c> → <c>computer-use-2025-01-24</c>).
    /// </summary>
    public static string BetaFlag(string computerTool) => computerTool is ['c', 'o', 'm', 'p', 'u', 't', 'e', 'r', '_', .. var date] && date.Length == 8
        ? $"computer-use-{date[..4]}-{date[4..6]}-{date[6..]}"
        : throw new ArgumentException($"'{computerTool}' is not a computer-use tool type (computer_YYYYMMDD).", nameof(computerTool));

    // The computer tool is declared as Anthropic's computer-use tool (its schema is built in); the others as custom tools.
    private AnthropicTool Tool(AIFunctionDeclaration function) =>
        function.AdditionalProperties.TryGetValue(Tools.ComputerDisplay.PropertyName, out var value) && value is Tools.ComputerDisplay display
            ? new AnthropicTool(function.Name, null, null)
            {
                Type = computerTool,
                DisplayWidthPx = display.ScaledWidth,
                DisplayHeightPx = display.ScaledHeight,
                DisplayNumber = HostAgentVariables.DisplayNumber,
                // Zoom came with computer_20251124; earlier types refuse the field.
                EnableZoom = string.CompareOrdinal(computerTool, "computer_20251124") >= 0 ? true : null,
            }
            : new AnthropicTool(function.Name, function.Description, Schema(function));

    // User turns carry text and tool results, assistant turns text and tool use; consecutive turns of one role are
    // merged, so that the results of one round of tool calls form the single user turn the protocol expects.
    private static List<AnthropicMessage> Conversation(IEnumerable<ChatMessage> messages)
    {
        var conversation = new List<AnthropicMessage>();
        var withImages = ImageResults(messages);
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
                            Content = ResultContent(result, withImages.Contains(result.CallId)),
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

    // Text, or text and the result's screenshots as image blocks; a result whose screenshot is left out says so.
    private static System.Text.Json.Nodes.JsonNode ResultContent(FunctionResultContent result, bool withImages)
    {
        var text = ResultText(result);
        if (!withImages)
        {
            return ResultImages(result).Any() ? text + " (Its screenshot is no longer shown.)" : text;
        }

        var blocks = new System.Text.Json.Nodes.JsonArray((System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject { ["type"] = "text", ["text"] = text });
        foreach (var image in ResultImages(result))
        {
            blocks.Add((System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
            {
                ["type"] = "image",
                ["source"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["type"] = "base64",
                    ["media_type"] = image.MediaType,
                    ["data"] = Convert.ToBase64String(image.Data.Span),
                },
            });
        }
        return blocks;
    }

    private static Uri WithSlash(Uri url) => url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
}
