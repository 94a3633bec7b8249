using System.Text.Json;
using System.Text.Json.Nodes;

namespace Raworc.HostAgent.Tools;

/// <summary>A tool as the model sees it: a name, a description, a JSON schema of its arguments, and how to run it.</summary>
/// <param name="Name">The function name the model calls, e.g. <c>bash</c>.</param>
/// <param name="Description">What the tool does, for the model.</param>
/// <param name="Schema">JSON schema (an object schema) of the arguments.</param>
/// <param name="RunAsync">Runs one call with the model's arguments; refusals surface as <see cref="ToolException"/>.</param>
/// <param name="Display">For the <c>computer</c> tool: the screen, so a provider with a computer-use tool type (Anthropic)
/// can declare it as such instead of as a function.</param>
public sealed record AgentTool(string Name, string Description, JsonElement Schema, Func<JsonObject, CancellationToken, Task<ToolResult>> RunAsync,
    ComputerDisplay? Display = null);
