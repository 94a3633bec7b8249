using System.ComponentModel.DataAnnotations;

namespace Raworc.ApiService.Models;

/// <summary>
/// The platform's model, section <c>Models</c>. The AppHost fills the keys from its secret parameters
/// <c>anthropic-api-key</c> and <c>openai-api-key</c>. Agents are told only the provider and model name; the base URL
/// and the keys stay in the API, whose model gateway (<c>Models/ModelGatewayApi.cs</c>) uses them, and a session's own
/// secrets <c>ANTHROPIC_API_KEY</c> / <c>OPENAI_API_KEY</c> take precedence over the keys there.
/// </summary>
public sealed class PlatformModelOptions
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
