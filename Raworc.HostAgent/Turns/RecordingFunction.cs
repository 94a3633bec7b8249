using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Raworc.HostAgent.Tools;

namespace Raworc.HostAgent.Turns;

/// <summary>
/// Exposes an <see cref="AgentTool"/> to <see cref="FunctionInvokingChatClient"/> and reports every call
/// (arguments, duration, exit code, redacted output) to <paramref name="onCall"/> before the model sees the result.
/// The result is the output text, or, when the tool gave an image (the <c>computer</c> tool's screenshots), a list of
/// a <see cref="TextContent"/> and a <see cref="DataContent"/> (<c>image/png</c>), which the provider clients send as an image.
/// </summary>
/// <param name="tool">The tool.</param>
/// <param name="redactor">Applied to the output the model and the user see.</param>
/// <param name="onCall">Receives each finished call.</param>
internal sealed class RecordingFunction(AgentTool tool, Redactor redactor, Func<ToolCallRecord, CancellationToken, Task> onCall) : AIFunction
{
    /// <inheritdoc />
    public override string Name => tool.Name;

    /// <inheritdoc />
    public override string Description => tool.Description;

    /// <inheritdoc />
    public override JsonElement JsonSchema => tool.Schema;

    /// <inheritdoc />
    /// <remarks>Holds the tool's <see cref="ComputerDisplay"/> under <see cref="ComputerDisplay.PropertyName"/>, for the computer tool.</remarks>
    public override IReadOnlyDictionary<string, object?> AdditionalProperties { get; } = tool.Display is null
        ? new Dictionary<string, object?>()
        : new Dictionary<string, object?> { [ComputerDisplay.PropertyName] = tool.Display };

    /// <inheritdoc />
    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        var json = ToJson(arguments);
        var stopwatch = Stopwatch.StartNew();
        ToolResult result;
        try
        {
            result = await tool.RunAsync(json, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The runtime's message may name .NET types; the model and the history get words (FailureText).
            result = new ToolResult($"Error: the tool failed ({FailureText.Describe(ex)}).", 1);
        }

        stopwatch.Stop();
        var output = redactor.Redact(result.Output);
        await onCall(new ToolCallRecord(tool.Name, json, stopwatch.ElapsedMilliseconds, result.ExitCode, output), cancellationToken);
        return result.Image is null ? output : new List<AIContent> { new TextContent(output), new DataContent(result.Image, "image/png") };
    }

    private static JsonObject ToJson(AIFunctionArguments arguments)
    {
        var json = new JsonObject();
        foreach (var (name, value) in arguments)
        {
            json[name] = value switch
            {
                null => null,
                JsonElement element => JsonNode.Parse(element.GetRawText()),
                JsonNode node => node.DeepClone(),
                string text => JsonValue.Create(text),
                _ => JsonSerializer.SerializeToNode(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType())),
            };
        }

        return json;
    }
}

/// <summary>One finished tool call.</summary>
/// <param name="Tool">The tool name.</param>
/// <param name="Arguments">The model's arguments as a JSON object (not yet redacted).</param>
/// <param name="DurationMs">Wall-clock milliseconds.</param>
/// <param name="ExitCode">The tool's exit code.</param>
/// <param name="Output">The output as the model received it, redacted.</param>
internal sealed record ToolCallRecord(string Tool, JsonObject Arguments, long DurationMs, int ExitCode, string Output);
