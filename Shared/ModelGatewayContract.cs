namespace Raworc;

/// <summary>
/// What the API's model gateway and the Host agent agree on, compiled into both: the variable that switches the
/// agent to the gateway, the provider names, and where a session's gateway lives.
/// </summary>
internal static class ModelGatewayContract
{
    /// <summary>
    /// Environment variable of a session's computer: <c>true</c> makes the agent send its model calls to the API's
    /// gateway with its Host token instead of to the provider with a key of its own.
    /// </summary>
    public const string EnabledVariable = "RAWORC_MODEL_GATEWAY";

    /// <summary>The Anthropic Messages protocol (the SDK appends <c>/v1/messages</c> to its base URL).</summary>
    public const string Anthropic = "anthropic";

    /// <summary>The OpenAI-compatible protocol (the SDK appends <c>/chat/completions</c> to its endpoint).</summary>
    public const string OpenAI = "openai";

    /// <summary>
    /// The gateway's path for one session and provider, relative to the API's origin and without slashes at either
    /// end: <c>api/v0/sessions/{sessionId}/model/{provider}</c>; the provider's own path follows it.
    /// </summary>
    /// <param name="sessionId">The session's UUID (or name).</param>
    /// <param name="provider"><see cref="Anthropic"/> or <see cref="OpenAI"/>.</param>
    public static string PathFor(string sessionId, string provider) =>
        $"api/v0/sessions/{Uri.EscapeDataString(sessionId)}/model/{provider}";
}
