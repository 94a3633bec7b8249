using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Raworc.HostAgent.Api;
using Raworc.HostAgent.Model;
using Raworc.HostAgent.Tools;

namespace Raworc.HostAgent.Turns;

/// <summary>
/// Runs one turn: the session's history (trimmed to <see cref="TurnOptions.HistoryBudgetChars"/>) plus the system prompt
/// and <c>instructions.md</c> go to the model, which may call the tools until it answers or the model-call limit is hit.
/// Produces the host messages to post, in order: one <c>tool_execution</c> per tool call, then one <c>response</c>
/// or <c>error</c>. Every content and metadata string has the secret values replaced by <c>[REDACTED]</c>.
/// </summary>
/// <param name="chatClient">The model with function invocation (<see cref="ChatClientFactory"/>); null when no model is configured.</param>
/// <param name="modelOptions">The model settings (name for metadata, problems, limits).</param>
/// <param name="tools">The tools offered to the model (<see cref="AgentTools.Create"/>).</param>
/// <param name="options">Prompt, history budget, logs folder.</param>
/// <param name="redactor">The session's secret values.</param>
public sealed class TurnRunner(IChatClient? chatClient, ModelOptions modelOptions, IReadOnlyList<AgentTool> tools, TurnOptions options, Redactor redactor)
{
    /// <summary>The API's limit on a message's content, in characters (<see cref="MessageLimits.MaxContentLength"/>).</summary>
    public const int MaxContentChars = MessageLimits.MaxContentLength;

    private readonly ToolLog _toolLog = new(options.LogsDirectory);

    /// <summary>The most characters of conversation a turn sends (<see cref="TurnOptions.HistoryBudgetChars"/>).</summary>
    public int HistoryBudgetChars => options.HistoryBudgetChars;

    /// <summary>Runs one turn over <paramref name="history"/> (the whole session, oldest first).</summary>
    /// <returns>The messages to post, in order; never empty, the last one ends the turn.</returns>
    /// <exception cref="OperationCanceledException">Only when <paramref name="cancellationToken"/> is cancelled.</exception>
    public Task<IReadOnlyList<NewMessage>> RunAsync(IReadOnlyList<SessionMessage> history, CancellationToken cancellationToken) =>
        RunAsync(history, null, cancellationToken);

    /// <summary>
    /// Runs one turn like <see cref="RunAsync(IReadOnlyList{SessionMessage}, CancellationToken)"/>, and hands each
    /// <c>tool_execution</c> message to <paramref name="onToolMessage"/> as soon as the call finishes (so it can be
    /// posted while the turn goes on). The returned list still holds every message, tool messages included.
    /// </summary>
    /// <exception cref="OperationCanceledException">Only when <paramref name="cancellationToken"/> is cancelled.</exception>
    public async Task<IReadOnlyList<NewMessage>> RunAsync(
        IReadOnlyList<SessionMessage> history,
        Func<NewMessage, CancellationToken, Task>? onToolMessage,
        CancellationToken cancellationToken)
    {
        var posted = new List<NewMessage>();
        if (chatClient is null || modelOptions.ConfigurationProblem is not null)
        {
            posted.Add(Error(modelOptions.ConfigurationProblem ?? "No model client is available.", "model_not_configured"));
            return posted;
        }

        var messages = new List<ChatMessage> { new(ChatRole.System, SystemPrompt()) };
        messages.AddRange(ConversationHistory.Build(history, options.HistoryBudgetChars));
        var chatOptions = new ChatOptions
        {
            ToolMode = ChatToolMode.Auto,
            Tools = [.. tools.Select(tool => new RecordingFunction(tool, redactor, (call, ct) => RecordAsync(call, posted, onToolMessage, ct)))],
        };

        ChatResponse response;
        try
        {
            response = await chatClient.GetResponseAsync(messages, chatOptions, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            posted.Add(Error(ModelErrors.Describe(ex, modelOptions), "model_error"));
            return posted;
        }

        if (HasUnansweredToolCalls(response))
        {
            var partial = response.Text is { Length: > 0 } text ? $"\n\nLast words of the model: {text}" : "";
            posted.Add(Error(
                $"The turn stopped: the model made the maximum of {modelOptions.MaxModelCallsPerTurn} model calls without a final answer (RAWORC_MAX_MODEL_CALLS).{partial}",
                "model_call_limit"));
            return posted;
        }

        var answer = string.IsNullOrWhiteSpace(response.Text) ? "(The model returned no text.)" : response.Text;
        var metadata = new JsonObject { ["type"] = MessageTypes.Response, ["model"] = modelOptions.EffectiveModel };
        if (ToolRounds(response) >= Math.Max(1, modelOptions.MaxModelCallsPerTurn - 1))
        {
            answer += $"\n\n(The turn stopped at the limit of {modelOptions.MaxModelCallsPerTurn} model calls per turn, RAWORC_MAX_MODEL_CALLS; send a message to continue.)";
            metadata["limit_reached"] = true;
        }

        posted.Add(new NewMessage(Storable(CappedText.Cap(redactor.Redact(answer), MaxContentChars)), metadata));
        return posted;
    }

    private async Task RecordAsync(ToolCallRecord call, List<NewMessage> posted, Func<NewMessage, CancellationToken, Task>? onToolMessage, CancellationToken cancellationToken)
    {
        var arguments = redactor.Redact(call.Arguments);
        await _toolLog.AppendAsync(call.Tool, arguments, call.DurationMs, call.ExitCode, call.Output, cancellationToken);
        var headline = call.Tool switch
        {
            AgentTools.BashName => "$ " + call.Arguments["command"]?.ToString(),
            AgentTools.ComputerName => $"computer {call.Arguments["action"]}",
            _ => $"{call.Tool} {call.Arguments["command"]} {call.Arguments["path"]}",
        };
        var content = redactor.Redact(headline) + "\n" + CappedText.Cap(call.Output, options.MaxToolMessageChars);
        var message = new NewMessage(Storable(CappedText.Cap(content, MaxContentChars)), new JsonObject
        {
            ["type"] = MessageTypes.ToolExecution,
            ["tool"] = call.Tool,
            ["tool_type"] = AgentTools.RaworcToolType(call.Tool),
            ["arguments"] = Storable(arguments),
            ["duration_ms"] = call.DurationMs,
            ["exit_code"] = call.ExitCode,
        });
        if (call.Tool == AgentTools.ComputerName)
        {
            // The event stream reports a screen change after such a message; the screenshot itself went to the model only.
            message.Metadata!["tool_type"] = AgentTools.ComputerName;
        }
        lock (posted)
        {
            posted.Add(message);
        }

        if (onToolMessage is not null)
        {
            await onToolMessage(message, cancellationToken);
        }
    }

    /// <summary>
    /// <paramref name="text"/> with each U+0000 replaced by U+FFFD: the API refuses a message holding U+0000 (422), and
    /// a command's output is the session's to write, so one NUL byte in it would drop the <c>tool_execution</c> message
    /// that shows the command ran.
    /// </summary>
    public static string Storable(string text) => text.Contains('\0', StringComparison.Ordinal) ? text.Replace('\0', '\uFFFD') : text;

    /// <summary>
    /// A deep copy of <paramref name="node"/> with <see cref="Storable(string)"/> applied to every property name and string
    /// value: a tool call's arguments are the model's to write, and one U+0000 in them would drop the call's
    /// <c>tool_execution</c> message as one in the output did. Two names that become equal keep the later value.
    /// </summary>
    public static JsonNode? Storable(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var copy = new JsonObject();
                foreach (var (name, value) in obj)
                {
                    copy[Storable(name)] = Storable(value);
                }
                return copy;
            case JsonArray array:
                return new JsonArray([.. array.Select(Storable)]);
            case JsonValue value when value.TryGetValue<string>(out var text):
                return JsonValue.Create(Storable(text));
            default:
                return node?.DeepClone();
        }
    }

    /// <summary>Most characters of <c>code/instructions.md</c> a turn takes: the API's limit for a session's instructions.</summary>
    internal const int MaxInstructionsChars = 100_000;

    private string SystemPrompt()
    {
        // The session's code can rewrite the file: a FIFO is skipped (reading it would wait for ever), and at most
        // MaxInstructionsChars are taken, the API's own limit for instructions (4 UTF-8 bytes a character at most).
        var instructions = SessionFiles.TryReadText(options.InstructionsPath, MaxInstructionsChars * 4) is { } text
            ? text[..Math.Min(text.Length, MaxInstructionsChars)]
            : null;
        return string.IsNullOrWhiteSpace(instructions)
            ? options.SystemPrompt
            : $"{options.SystemPrompt}\n\n# Instructions for this session\n\n{instructions.Trim()}";
    }

    // Each model answer that asked for tools is one assistant message with function calls.
    private static int ToolRounds(ChatResponse response) =>
        response.Messages.Count(m => m.Role == ChatRole.Assistant && m.Contents.OfType<FunctionCallContent>().Any());

    private static bool HasUnansweredToolCalls(ChatResponse response)
    {
        var answered = response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Select(r => r.CallId).ToHashSet();
        return response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Any(call => !answered.Contains(call.CallId));
    }

    private NewMessage Error(string reason, string code) => new(
        redactor.Redact(reason),
        new JsonObject { ["type"] = MessageTypes.Error, ["code"] = code, ["model"] = modelOptions.EffectiveModel });
}
