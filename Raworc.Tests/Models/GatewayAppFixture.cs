using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Models;

/// <summary>
/// The system without computers whose platform model is Anthropic, served by the stand-in: tests call the gateway with
/// forged Host tokens, as an agent would.
/// </summary>
public sealed class GatewayAppFixture : RaworcAppFixture
{
    /// <summary>The platform's Anthropic key.</summary>
    public const string PlatformAnthropicKey = "platform-anthropic-key";

    private StandInModelServer? _model;

    /// <summary>The stand-in model provider.</summary>
    public StandInModelServer Model => _model ?? throw new InvalidOperationException("Not started.");

    protected override IReadOnlyDictionary<string, string> ApiEnvironment => new Dictionary<string, string>
    {
        ["Models__Provider"] = "anthropic",
        ["Models__BaseUrl"] = Model.AnthropicBaseUrl.ToString(),
        ["Models__AnthropicApiKey"] = PlatformAnthropicKey,
        ["Models__OpenAiApiKey"] = "platform-openai-key",
    };

    protected override async Task BeforeStartAsync() => _model = await StandInModelServer.StartAsync();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_model is not null)
        {
            await _model.DisposeAsync();
        }
    }
}

/// <summary>Tests of the gateway against an Anthropic platform model.</summary>
[CollectionDefinition(Name)]
public sealed class GatewayAppCollection : ICollectionFixture<GatewayAppFixture>
{
    public const string Name = "Raworc with an Anthropic platform model";
}
