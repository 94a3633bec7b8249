using Raworc.HostAgent.Api;

namespace Raworc.HostAgent.Model;

/// <summary>
/// Which model the Host talks to and how patiently. Read from the environment by <see cref="FromEnvironment"/>:
/// <c>RAWORC_MODEL_PROVIDER</c> (<c>anthropic</c> | <c>openai</c>), <c>RAWORC_MODEL</c>, <c>RAWORC_MODEL_BASE_URL</c>,
/// and the key from <c>ANTHROPIC_API_KEY</c> or <c>OPENAI_API_KEY</c> by provider; or, with
/// <c>RAWORC_MODEL_GATEWAY=true</c> (how Raworc starts its computers), the API's model gateway (<see cref="ThroughGateway"/>).
/// </summary>
public sealed record ModelOptions
{
    /// <summary>The Anthropic provider name.</summary>
    public const string Anthropic = "anthropic";

    /// <summary>The OpenAI-compatible provider name (OpenAI, Azure OpenAI's v1 endpoint, Ollama, vLLM).</summary>
    public const string OpenAI = "openai";

    /// <summary>The model used with Anthropic when none is named.</summary>
    public const string DefaultAnthropicModel = "claude-sonnet-4-5";

    /// <summary>The model used with OpenAI when none is named.</summary>
    public const string DefaultOpenAIModel = "gpt-4.1";

    /// <summary>The computer-use tool type the <c>computer</c> tool is declared as with Anthropic (Claude 4 and 3.7 models).</summary>
    public const string DefaultAnthropicComputerTool = "computer_20250124";

    /// <summary>
    /// The computer-use tool type for Anthropic (<c>RAWORC_ANTHROPIC_COMPUTER_TOOL</c>, default
    /// <see cref="DefaultAnthropicComputerTool"/>); <c>computer_20251124</c> (Claude Opus 4.5) adds <c>zoom</c>.
    /// </summary>
    public string AnthropicComputerTool { get; init; } = DefaultAnthropicComputerTool;

    /// <summary><c>anthropic</c>, <c>openai</c>, or null when nothing is configured.</summary>
    public string? Provider { get; init; }

    /// <summary>Model name as the provider knows it; null means the provider's default above.</summary>
    public string? Model { get; init; }

    /// <summary>Provider base URL, e.g. <c>http://127.0.0.1:11434/v1</c>; null means the provider's public endpoint.</summary>
    public Uri? BaseUrl { get; init; }

    /// <summary>The API key; may be empty only for an OpenAI-compatible endpoint given by <see cref="BaseUrl"/>.</summary>
    public string? ApiKey { get; init; }

    /// <summary>
    /// True when the model is reached through the Raworc API's gateway (<c>RAWORC_MODEL_GATEWAY=true</c>): then
    /// <see cref="BaseUrl"/> is the session's gateway address, <see cref="ApiKey"/> the Host token, and calls go over the
    /// API's transport (its Unix socket when there is one).
    /// </summary>
    public bool Gateway { get; init; }

    /// <summary>The most model calls in one turn (the function-invocation loop's iterations); default 30.</summary>
    public int MaxModelCallsPerTurn { get; init; } = 30;

    /// <summary>The most tokens one model answer may have; default 8,192.</summary>
    public int MaxOutputTokens { get; init; } = 8_192;

    /// <summary>Retries of one model call on 408, 429, 5xx, connection failures and timeouts (never on 401); default 4.</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>First retry delay; later ones grow exponentially (with jitter). Default 2 s.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Time one attempt may take before it is abandoned and retried; default 5 minutes.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The model name in effect: <see cref="Model"/> or the provider's default.</summary>
    public string EffectiveModel => Model ?? (Provider == OpenAI ? DefaultOpenAIModel : DefaultAnthropicModel);

    /// <summary>Null when the settings can be used; otherwise a message telling the user how to configure a model.</summary>
    public string? ConfigurationProblem => Provider switch
    {
        Anthropic when string.IsNullOrWhiteSpace(ApiKey) =>
            "No model is configured: the Anthropic provider needs an API key. Set ANTHROPIC_API_KEY (for example as a session secret), and optionally RAWORC_MODEL.",
        OpenAI when string.IsNullOrWhiteSpace(ApiKey) && BaseUrl is null =>
            "No model is configured: the OpenAI provider needs OPENAI_API_KEY, or RAWORC_MODEL_BASE_URL for a local OpenAI-compatible server (Ollama, vLLM), and RAWORC_MODEL.",
        Anthropic or OpenAI => null,
        null =>
            "No model is configured. Set ANTHROPIC_API_KEY to use Claude (model in RAWORC_MODEL, default " + DefaultAnthropicModel + "), or set RAWORC_MODEL_PROVIDER=openai with OPENAI_API_KEY and/or RAWORC_MODEL_BASE_URL and RAWORC_MODEL for an OpenAI-compatible endpoint.",
        var other =>
            $"RAWORC_MODEL_PROVIDER is '{other}'; use 'anthropic' or 'openai'.",
    };

    /// <summary>
    /// Reads the settings. Without <c>RAWORC_MODEL_PROVIDER</c> the provider is <c>anthropic</c> when
    /// <c>ANTHROPIC_API_KEY</c> is set, else <c>openai</c> when <c>OPENAI_API_KEY</c> or <c>RAWORC_MODEL_BASE_URL</c> is set.
    /// Optional: <c>RAWORC_MAX_MODEL_CALLS</c> (per turn).
    /// </summary>
    /// <exception cref="FormatException"><c>RAWORC_MODEL_BASE_URL</c> or <c>RAWORC_MAX_MODEL_CALLS</c> is malformed.</exception>
    public static ModelOptions FromEnvironment(AgentEnvironment configuration)
    {
        if (string.Equals(NonEmpty(configuration[ModelGatewayContract.EnabledVariable]), "true", StringComparison.OrdinalIgnoreCase))
        {
            // Keys and base URL are the API's business; a session's secrets of those names must not redirect the agent.
            return new ModelOptions
            {
                Gateway = true,
                Provider = NonEmpty(configuration[HostAgentVariables.ModelProvider])?.ToLowerInvariant(),
                Model = NonEmpty(configuration[HostAgentVariables.Model]),
                MaxModelCallsPerTurn = MaxCalls(configuration),
            };
        }

        var anthropicKey = NonEmpty(configuration[HostAgentVariables.AnthropicApiKey]);
        var openAIKey = NonEmpty(configuration[HostAgentVariables.OpenAiApiKey]);
        var baseUrlText = NonEmpty(configuration[HostAgentVariables.ModelBaseUrl]);
        var provider = NonEmpty(configuration[HostAgentVariables.ModelProvider])?.ToLowerInvariant()
            ?? (anthropicKey is not null ? Anthropic : openAIKey is not null || baseUrlText is not null ? OpenAI : null);
        Uri? baseUrl = null;
        if (baseUrlText is not null && !Uri.TryCreate(baseUrlText, UriKind.Absolute, out baseUrl))
        {
            throw new FormatException("RAWORC_MODEL_BASE_URL must be an absolute URL, e.g. http://127.0.0.1:11434/v1.");
        }

        return new ModelOptions
        {
            Provider = provider,
            Model = NonEmpty(configuration[HostAgentVariables.Model]),
            BaseUrl = baseUrl,
            ApiKey = provider == OpenAI ? openAIKey : anthropicKey,
            MaxModelCallsPerTurn = MaxCalls(configuration),
        };
    }

    /// <summary>
    /// These settings pointed at the session's gateway: <see cref="BaseUrl"/> becomes
    /// <c>{ApiUrl}api/v0/sessions/{SessionId}/model/{provider}</c> (the Anthropic protocol's base URL, the OpenAI protocol's endpoint)
    /// and <see cref="ApiKey"/> the Host token. Unchanged when <see cref="Gateway"/> is false or no provider is known.
    /// </summary>
    public ModelOptions ThroughGateway(AgentOptions agent) => Gateway && Provider is Anthropic or OpenAI
        ? this with { BaseUrl = new Uri(agent.ApiUrl, ModelGatewayContract.PathFor(agent.SessionId, Provider)), ApiKey = agent.HostToken }
        : this;

    /// <summary>Never prints the key.</summary>
    public override string ToString() => $"ModelOptions {{ Provider = {Provider}, Model = {EffectiveModel}, BaseUrl = {BaseUrl}, Gateway = {Gateway} }}";

    private static int MaxCalls(AgentEnvironment configuration) => NonEmpty(configuration[HostAgentVariables.MaxModelCalls]) is { } text
        ? int.TryParse(text, out var calls) && calls > 0 ? calls : throw new FormatException("RAWORC_MAX_MODEL_CALLS must be a positive integer.")
        : 30;

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
