namespace Raworc.HostAgent.Api;

/// <summary>The values of <c>metadata.type</c> on host messages.</summary>
public static class MessageTypes
{
    /// <summary>A final answer: <c>{"type":"response","model":…}</c>.</summary>
    public const string Response = "response";

    /// <summary>A turn that ended without an answer: <c>{"type":"error","reason":…}</c>.</summary>
    public const string Error = "error";

    /// <summary>One tool call: <c>{"type":"tool_execution","tool","tool_type","arguments","duration_ms","exit_code"}</c>
    /// (<c>tool_type</c>: Raworc 0.3.5's name, see <see cref="Tools.AgentTools.RaworcToolType"/>).</summary>
    public const string ToolExecution = "tool_execution";
}
