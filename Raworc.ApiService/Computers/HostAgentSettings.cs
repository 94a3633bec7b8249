using System.ComponentModel.DataAnnotations;

namespace Raworc.ApiService.Computers;

/// <summary>
/// The platform's model, section <c>Models</c>. The AppHost fills the keys from its secret parameters
/// <c>anthropic-api-key</c> and <c>openai-api-key</c>. Agents are told only the provider and model name; the base URL
/// and the keys stay in the API, whose model gateway (<c>Models/ModelGatewayApi.cs</c>) uses them, and a session's own
/// secrets <c>ANTHROPIC_API_KEY</c> / <c>OPENAI_API_KEY</c> take precedence over the keys there.
/// </summary>
public sealed class ModelOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Models";

    /// <summary><c>anthropic</c> or <c>openai</c> (any OpenAI-compatible endpoint); empty lets the agent choose from the keys it has.</summary>
    [RegularExpression("^(|anthropic|openai)$")]
    public string Provider { get; set; } = "";

    /// <summary>Model name; empty for the agent's default.</summary>
    public string Model { get; set; } = "";

    /// <summary>Base URL of the provider's API (an OpenAI-compatible endpoint such as Ollama, or a proxy); empty for the provider's own.</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>Anthropic API key, or empty.</summary>
    public string AnthropicApiKey { get; set; } = "";

    /// <summary>OpenAI-compatible endpoint key, or empty.</summary>
    public string OpenAiApiKey { get; set; } = "";
}

/// <summary>Names of the environment variables a session's Host agent reads.</summary>
public static class HostAgentVariables
{
    /// <summary>Base URL of the Raworc API, e.g. <c>http://127.0.0.1:9000</c>.</summary>
    public const string ApiUrl = "RAWORC_API_URL";
    /// <summary>The session-scoped Host token (a JWT).</summary>
    public const string HostToken = "RAWORC_HOST_TOKEN";
    /// <summary>Comma-separated names of the session's secrets, whose values the agent redacts.</summary>
    public const string SecretNames = "RAWORC_SECRET_NAMES";
    /// <summary>Model provider the agent speaks to the gateway: <c>anthropic</c> or <c>openai</c>.</summary>
    public const string ModelProvider = "RAWORC_MODEL_PROVIDER";
    /// <summary>Model name.</summary>
    public const string Model = "RAWORC_MODEL";
    /// <summary>Anthropic key: never set by the platform; the name of a session's own key among its secrets.</summary>
    public const string AnthropicApiKey = "ANTHROPIC_API_KEY";
    /// <summary>OpenAI-compatible key: never set by the platform; the name of a session's own key among its secrets.</summary>
    public const string OpenAiApiKey = "OPENAI_API_KEY";
}
