using Microsoft.Extensions.AI;

namespace Raworc.HostAgent.Model;

/// <summary>
/// Builds the Host's <see cref="IChatClient"/>: the provider's protocol (<see cref="AnthropicChatClient"/> or
/// <see cref="OpenAIChatClient"/>) over
/// <see cref="ModelHttp"/>, wrapped in function invocation limited to <see cref="ModelOptions.MaxModelCallsPerTurn"/>
/// model calls. No OpenTelemetry layer: a computer has no collector, and the layer's code costs every agent memory.
/// </summary>
public static class ChatClientFactory
{
    /// <summary>Creates the client.</summary>
    /// <param name="options">Model settings; must have no <see cref="ModelOptions.ConfigurationProblem"/>.</param>
    /// <param name="loggerFactory">For the function-invocation layer; optional.</param>
    /// <param name="transport">The innermost HTTP handler (see <see cref="ModelHttp.CreateClient"/>); null for a direct connection.</param>
    /// <exception cref="InvalidOperationException">The settings cannot be used; the message says how to fix them (never contains the key).</exception>
    public static IChatClient Create(ModelOptions options, ILoggerFactory? loggerFactory = null, HttpMessageHandler? transport = null)
    {
        if (options.ConfigurationProblem is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        var http = ModelHttp.CreateClient(options, transport);
        var inner = options.Provider == ModelOptions.Anthropic ? CreateAnthropic(options, http) : CreateOpenAI(options, http);
        return new ChatClientBuilder(inner)
            .UseFunctionInvocation(loggerFactory, invoker =>
            {
                // At its limit the invoker makes one more call without tools so the model can sum up;
                // one iteration less keeps the total number of model calls at the configured maximum.
                invoker.MaximumIterationsPerRequest = Math.Max(1, options.MaxModelCallsPerTurn - 1);
                // Tool failures are returned to the model as text by the tools themselves.
                invoker.IncludeDetailedErrors = false;
            })
            .Build();
    }

    private static IChatClient CreateAnthropic(ModelOptions options, HttpClient http) => new AnthropicChatClient(
        http, options.BaseUrl ?? AnthropicChatClient.PublicOrigin, options.ApiKey ?? "", options.EffectiveModel, options.MaxOutputTokens,
        options.AnthropicComputerTool);

    // Local OpenAI-compatible servers accept any key; an empty bearer header would be refused by some.
    private static IChatClient CreateOpenAI(ModelOptions options, HttpClient http) => new OpenAIChatClient(
        http, options.BaseUrl ?? OpenAIChatClient.PublicEndpoint, string.IsNullOrWhiteSpace(options.ApiKey) ? "no-key" : options.ApiKey, options.EffectiveModel);
}
