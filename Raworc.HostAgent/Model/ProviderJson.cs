using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Raworc.HostAgent.Model;

/// <summary>
/// The JSON of both provider protocols the agent speaks (Anthropic Messages, OpenAI chat completions), source-generated:
/// the agent is published with Native AOT, where reflection-based serialization does not work.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AnthropicRequest))]
[JsonSerializable(typeof(AnthropicResponse))]
[JsonSerializable(typeof(OpenAIRequest))]
[JsonSerializable(typeof(OpenAIResponse))]
[JsonSerializable(typeof(ProviderErrorEnvelope))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonNode))]
internal sealed partial class ProviderJson : JsonSerializerContext;

/// <summary><c>POST /v1/messages</c> (Anthropic).</summary>
internal sealed record AnthropicRequest(string Model, int MaxTokens, IReadOnlyList<AnthropicMessage> Messages)
{
    public string? System { get; init; }

    public IReadOnlyList<AnthropicTool>? Tools { get; init; }

    public AnthropicToolChoice? ToolChoice { get; init; }

    public float? Temperature { get; init; }

    public IList<string>? StopSequences { get; init; }
}

/// <summary>One turn of an Anthropic conversation: <c>user</c> or <c>assistant</c> with content blocks.</summary>
internal sealed record AnthropicMessage(string Role, List<AnthropicBlock> Content);

/// <summary>
/// A content block: <c>text</c> (<see cref="Text"/>), <c>tool_use</c> (<see cref="Id"/>, <see cref="Name"/>,
/// <see cref="Input"/>) or <c>tool_result</c> (<see cref="ToolUseId"/>, <see cref="Content"/>: a string, or an array of
/// <c>text</c> and <c>image</c> blocks, <see cref="IsError"/>).
/// Other block types in an answer (thinking, say) are read and skipped.
/// </summary>
internal sealed record AnthropicBlock(string Type)
{
    public string? Text { get; init; }

    public string? Id { get; init; }

    public string? Name { get; init; }

    public JsonObject? Input { get; init; }

    public string? ToolUseId { get; init; }

    public JsonNode? Content { get; init; }

    public bool? IsError { get; init; }
}

/// <summary>
/// A tool offered to the model: a custom tool (<see cref="InputSchema"/> is the JSON schema of its arguments), or, with
/// <see cref="Type"/> set (<c>computer_20250124</c>), Anthropic's computer-use tool, declared by its screen size only.
/// </summary>
internal sealed record AnthropicTool(string Name, string? Description, JsonNode? InputSchema)
{
    public string? Type { get; init; }

    public int? DisplayWidthPx { get; init; }

    public int? DisplayHeightPx { get; init; }

    public int? DisplayNumber { get; init; }

    public bool? EnableZoom { get; init; }
}

/// <summary><c>auto</c>, <c>any</c> or <c>none</c>.</summary>
internal sealed record AnthropicToolChoice(string Type);

/// <summary>The answer of <c>POST /v1/messages</c>.</summary>
internal sealed record AnthropicResponse(string? Id, string? Model, List<AnthropicBlock>? Content, string? StopReason, AnthropicUsage? Usage);

/// <summary>Token counts of one call.</summary>
internal sealed record AnthropicUsage(long? InputTokens, long? OutputTokens);

/// <summary><c>POST {endpoint}/chat/completions</c> (OpenAI and compatible servers).</summary>
internal sealed record OpenAIRequest(string Model, IReadOnlyList<OpenAIMessage> Messages)
{
    public IReadOnlyList<OpenAITool>? Tools { get; init; }

    public string? ToolChoice { get; init; }

    public int? MaxCompletionTokens { get; init; }

    public float? Temperature { get; init; }

    public IList<string>? Stop { get; init; }
}

/// <summary>
/// A chat message: <c>system</c>, <c>user</c>, <c>assistant</c> (text and/or <see cref="ToolCalls"/>) or <c>tool</c>
/// (a result, <see cref="ToolCallId"/>). <see cref="Content"/> is always written: null is valid only beside tool calls;
/// it is a string, or for a user message an array of <c>text</c> and <c>image_url</c> parts (screenshots).
/// </summary>
internal sealed record OpenAIMessage(string Role, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] JsonNode? Content)
{
    /// <summary>The content when it is a string (as in every answer), else null.</summary>
    [JsonIgnore]
    public string? Text => Content is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    public List<OpenAIToolCall>? ToolCalls { get; init; }

    public string? ToolCallId { get; init; }
}

/// <summary>A function call of the model; <see cref="Function"/> carries its arguments as a JSON string.</summary>
internal sealed record OpenAIToolCall(string? Id, string? Type, OpenAIFunctionCall? Function);

/// <summary>The called function's name and its arguments (JSON text).</summary>
internal sealed record OpenAIFunctionCall(string? Name, string? Arguments);

/// <summary>A tool offered to the model: <c>{"type":"function","function":{…}}</c>.</summary>
internal sealed record OpenAITool(string Type, OpenAIFunction Function);

/// <summary>A function declaration; <see cref="Parameters"/> is the JSON schema of its arguments.</summary>
internal sealed record OpenAIFunction(string Name, string? Description, JsonNode? Parameters);

/// <summary>The answer of <c>POST …/chat/completions</c>.</summary>
internal sealed record OpenAIResponse(string? Id, string? Model, List<OpenAIChoice>? Choices, OpenAIUsage? Usage);

/// <summary>One choice; the agent asks for one.</summary>
internal sealed record OpenAIChoice(OpenAIMessage? Message, string? FinishReason);

/// <summary>Token counts of one call.</summary>
internal sealed record OpenAIUsage(long? PromptTokens, long? CompletionTokens, long? TotalTokens);

/// <summary>Both providers' error envelope: <c>{"error":{"type","message"}}</c>.</summary>
internal sealed record ProviderErrorEnvelope(ProviderError? Error);

/// <summary>The inside of the error envelope.</summary>
internal sealed record ProviderError(string? Type, string? Message);
