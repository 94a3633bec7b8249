using Raworc.ApiService.Models;

namespace Raworc.Tests.Models;

public sealed class ModelUpstreamTests
{
    private static readonly Dictionary<string, string> None = [];

    private static PlatformModelOptions Platform(string provider = "", string baseUrl = "", string anthropicKey = "", string openAiKey = "") =>
        new() { Provider = provider, BaseUrl = baseUrl, AnthropicApiKey = anthropicKey, OpenAiApiKey = openAiKey };

    [Fact]
    public void ThePlatformsBaseUrlServesOnlyThePlatformsProvider()
    {
        var anthropic = Platform("anthropic", "http://proxy.local/", "pa", "po");
        Assert.Equal(new ModelUpstream("anthropic", "http://proxy.local", "pa"), ModelUpstream.For("anthropic", anthropic, None));
        Assert.Equal(new ModelUpstream("openai", ModelUpstream.OpenAIDefault, "po"), ModelUpstream.For("openai", anthropic, None));

        var local = Platform("", "http://127.0.0.1:9100/v1");
        Assert.Equal(new ModelUpstream("openai", "http://127.0.0.1:9100/v1", null), ModelUpstream.For("openai", local, None));
        Assert.Equal(new ModelUpstream("anthropic", ModelUpstream.AnthropicDefault, null), ModelUpstream.For("anthropic", local, None));
    }

    [Fact]
    public void ASessionsOwnKeyWinsOverThePlatforms()
    {
        var platform = Platform("openai", "http://127.0.0.1:9100/v1", "pa", "po");
        var secrets = new Dictionary<string, string> { ["OPENAI_API_KEY"] = "own-o", ["ANTHROPIC_API_KEY"] = "" };
        Assert.Equal("own-o", ModelUpstream.For("openai", platform, secrets).ApiKey);
        Assert.Equal("pa", ModelUpstream.For("anthropic", platform, secrets).ApiKey);
    }

    [Fact]
    public void TheProvidersAuthenticationIsTheirOwnHeader()
    {
        using var anthropic = new HttpRequestMessage();
        new ModelUpstream("anthropic", ModelUpstream.AnthropicDefault, "ka").Authorize(anthropic);
        Assert.Equal(["ka"], anthropic.Headers.GetValues("x-api-key"));
        Assert.Null(anthropic.Headers.Authorization);

        using var openAI = new HttpRequestMessage();
        new ModelUpstream("openai", ModelUpstream.OpenAIDefault, "ko").Authorize(openAI);
        Assert.Equal("Bearer ko", openAI.Headers.Authorization?.ToString());

        using var keyless = new HttpRequestMessage();
        new ModelUpstream("openai", "http://127.0.0.1:9100/v1", null).Authorize(keyless);
        Assert.Empty(keyless.Headers);
        Assert.DoesNotContain("ko", new ModelUpstream("openai", ModelUpstream.OpenAIDefault, "ko").ToString(), StringComparison.Ordinal);
    }
}
