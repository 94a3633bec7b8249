using System.Text.Json.Nodes;

namespace Raworc.Tests.HostAgent;

/// <summary>One reply of the stand-in model, in the order the script plays them.</summary>
public abstract record ScriptStep
{
    /// <summary>Answer with one tool call.</summary>
    public static ScriptStep CallTool(string name, JsonObject arguments) => new ToolCallStep(name, arguments);

    /// <summary>Answer with one call of the <c>computer</c> tool: <paramref name="action"/> plus the given fields (e.g. <c>("text", "ctrl+alt+t")</c>).</summary>
    public static ScriptStep UseComputer(string action, params (string Name, JsonNode? Value)[] fields)
    {
        var arguments = new JsonObject { ["action"] = action };
        foreach (var (name, value) in fields)
        {
            arguments[name] = value;
        }
        return new ToolCallStep("computer", arguments);
    }

    /// <summary>Answer with a fixed text and end the model's turn.</summary>
    public static ScriptStep Answer(string text) => new AnswerStep(_ => text);

    /// <summary>Answer with a text computed from the request (e.g. echoing the last tool result).</summary>
    public static ScriptStep Answer(Func<RecordedRequest, string> text) => new AnswerStep(text);

    /// <summary>Answer with an HTTP error in the protocol's error shape.</summary>
    public static ScriptStep Fail(int status) => new FailStep(status);

    /// <summary>Drop the connection without an answer.</summary>
    public static ScriptStep Drop() => new DropStep();

    /// <summary>Answer 200 with a body that is not JSON (a proxy's page, say).</summary>
    public static ScriptStep NotJson() => new NotJsonStep();

    /// <summary>Hold the request open for <paramref name="delay"/> (or until the client gives up), then answer 500.</summary>
    public static ScriptStep Hang(TimeSpan delay) => new HangStep(delay);

    /// <summary>
    /// A text answer that, to a streaming request, sends <paramref name="first"/> as its first event(s), then waits for
    /// <paramref name="release"/> (at most 30 s) before sending <paramref name="rest"/> and the end; to any other request,
    /// the whole text at once.
    /// </summary>
    public static ScriptStep Stream(string first, string rest, Task release) => new StreamStep(first, rest, release);
}

/// <summary>A text answer streamed in two parts with a pause between them.</summary>
public sealed record StreamStep(string First, string Rest, Task Release) : ScriptStep;

/// <summary>A tool call.</summary>
public sealed record ToolCallStep(string Name, JsonObject Arguments) : ScriptStep;

/// <summary>A final text.</summary>
public sealed record AnswerStep(Func<RecordedRequest, string> Text) : ScriptStep;

/// <summary>An HTTP error.</summary>
public sealed record FailStep(int Status) : ScriptStep;

/// <summary>A connection dropped without an answer.</summary>
public sealed record DropStep : ScriptStep;

/// <summary>A 200 whose body is not JSON.</summary>
public sealed record NotJsonStep : ScriptStep;

/// <summary>A request that never answers in time.</summary>
public sealed record HangStep(TimeSpan Delay) : ScriptStep;

/// <summary>What the stand-in received, normalised across both protocols.</summary>
/// <param name="Protocol"><c>anthropic</c> or <c>openai</c>.</param>
/// <param name="ApiKey">The key the client sent (<c>x-api-key</c> or the bearer token).</param>
/// <param name="System">The system prompt text.</param>
/// <param name="Messages">Role and text of each conversation message with text (roles <c>user</c>/<c>assistant</c>).</param>
/// <param name="ToolResults">The text of each tool result, in order.</param>
/// <param name="ToolNames">Names of the tools offered.</param>
/// <param name="Body">The raw request body.</param>
public sealed record RecordedRequest(
    string Protocol,
    string? ApiKey,
    string System,
    IReadOnlyList<(string Role, string Text)> Messages,
    IReadOnlyList<string> ToolResults,
    IReadOnlyList<string> ToolNames,
    JsonObject Body)
{
    /// <summary>The raw <c>Authorization</c> and <c>x-api-key</c> headers, as received.</summary>
    public string Credentials { get; init; } = "";

    /// <summary>The usage the stand-in reported in its answer (input, output tokens); null for errors.</summary>
    public (long Input, long Output)? ReportedUsage { get; set; }

    /// <summary>
    /// The images the request carried, decoded, in order: Anthropic <c>image</c> blocks inside tool results, OpenAI
    /// <c>image_url</c> parts (base64 <c>data:</c> URLs) of user messages.
    /// </summary>
    public IReadOnlyList<byte[]> Images { get; init; } = [];

    /// <summary>The <c>anthropic-beta</c> header, as received (empty when absent).</summary>
    public string AnthropicBeta { get; init; } = "";

    /// <summary>The newest tool result, or an empty string.</summary>
    public string LastToolResult => ToolResults.Count == 0 ? "" : ToolResults[^1];
}
