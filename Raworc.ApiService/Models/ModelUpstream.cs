
namespace Raworc.ApiService.Models;

/// <summary>
/// Where the gateway sends one provider's calls and with which key. Chosen per request from the platform's
/// <see cref="PlatformModelOptions"/> and the session's own secrets; the key never leaves the API except towards the provider.
/// </summary>
/// <param name="Provider"><c>anthropic</c> or <c>openai</c>.</param>
/// <param name="BaseUrl">The provider's base, without a trailing slash: the SDK's own path is appended to it.</param>
/// <param name="ApiKey">The key sent to the provider, or null to send none (a local OpenAI-compatible server).</param>
public sealed record ModelUpstream(string Provider, string BaseUrl, string? ApiKey)
{
    /// <summary>Anthropic's public API (the SDK appends <c>/v1/messages</c>).</summary>
    public const string AnthropicDefault = "https://api.anthropic.com";

    /// <summary>OpenAI's public API (the SDK appends <c>/chat/completions</c>).</summary>
    public const string OpenAIDefault = "https://api.openai.com/v1";

    /// <summary>
    /// The upstream for <paramref name="provider"/>. The key is the session's own secret <c>ANTHROPIC_API_KEY</c> /
    /// <c>OPENAI_API_KEY</c> when it has one, else the platform's, else none. <c>Models:BaseUrl</c> belongs to the
    /// platform's provider: it is used for <c>anthropic</c> when <c>Models:Provider</c> is <c>anthropic</c>, and for
    /// <c>openai</c> when the provider is <c>openai</c> or unset (a base URL alone means an OpenAI-compatible server).
    /// A session cannot choose the endpoint (<c>RAWORC_*</c> secrets are reserved), so nothing here reaches an address the
    /// platform did not configure.
    /// </summary>
    /// <param name="provider"><c>anthropic</c> or <c>openai</c>.</param>
    /// <param name="platform">The platform's model settings.</param>
    /// <param name="sessionSecrets">The session's decrypted secrets.</param>
    public static ModelUpstream For(string provider, PlatformModelOptions platform, IReadOnlyDictionary<string, string> sessionSecrets)
    {
        var anthropic = provider == ModelGatewayContract.Anthropic;
        var keyName = anthropic ? HostAgentVariables.AnthropicApiKey : HostAgentVariables.OpenAiApiKey;
        var ownKey = sessionSecrets.TryGetValue(keyName, out var own) && own.Length > 0 ? own : null;
        var ownsBaseUrl = anthropic
            ? platform.Provider == ModelGatewayContract.Anthropic
            : platform.Provider is "" or ModelGatewayContract.OpenAI;
        var baseUrl = ownsBaseUrl && platform.BaseUrl.Length > 0 ? platform.BaseUrl : anthropic ? AnthropicDefault : OpenAIDefault;
        var platformKey = anthropic ? platform.AnthropicApiKey : platform.OpenAiApiKey;
        return new ModelUpstream(provider, baseUrl.TrimEnd('/'), ownKey ?? (platformKey.Length > 0 ? platformKey : null));
    }

    /// <summary>The full upstream URL for the provider path <paramref name="path"/> (e.g. <c>v1/messages</c>) and query.</summary>
    public Uri RequestUri(string path, QueryString query) => new($"{BaseUrl}/{path}{query}");

    /// <summary>Puts the provider's own authentication on a request: <c>x-api-key</c> (Anthropic) or a bearer token (OpenAI).</summary>
    public void Authorize(HttpRequestMessage request)
    {
        if (ApiKey is null)
        {
            return;
        }
        if (Provider == ModelGatewayContract.Anthropic)
        {
            request.Headers.TryAddWithoutValidation("x-api-key", ApiKey);
        }
        else
        {
            request.Headers.Authorization = new("Bearer", ApiKey);
        }
    }

    /// <summary>Never prints the key.</summary>
    public override string ToString() => $"ModelUpstream {{ Provider = {Provider}, BaseUrl = {BaseUrl} }}";
}
