using System.ClientModel;
using System.ClientModel.Primitives;
using Anthropic;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Raworc.HostAgent.Model;

/// <summary>
/// Builds the Host's <see cref="IChatClient"/>: the provider's SDK (Anthropic, or OpenAI-compatible) over
/// <see cref="ModelHttp"/>, wrapped in OpenTelemetry and function invocation limited to
/// <see cref="ModelOptions.MaxModelCallsPerTurn"/> model calls.
/// </summary>
public static class ChatClientFactory
{
    /// <summary>The ActivitySource / Meter name of the model telemetry; the same as the agent's application name.</summary>
    public const string TelemetrySource = "Raworc.HostAgent";

    /// <summary>Creates the client.</summary>
    /// <param name="options">Model settings; must have no <see cref="ModelOptions.ConfigurationProblem"/>.</param>
    /// <param name="loggerFactory">For the function-invocation and telemetry layers; optional.</param>
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
            .UseOpenTelemetry(loggerFactory, TelemetrySource)
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

    private static IChatClient CreateAnthropic(ModelOptions options, HttpClient http)
    {
        // The retry pipeline times each attempt; Timeout bounds the whole call including retries.
        var client = options.BaseUrl is { } url
            ? new AnthropicClient { ApiKey = options.ApiKey, HttpClient = http, MaxRetries = 0, Timeout = OverallTimeout(options), BaseUrl = url.ToString().TrimEnd('/') }
            : new AnthropicClient { ApiKey = options.ApiKey, HttpClient = http, MaxRetries = 0, Timeout = OverallTimeout(options) };
        return client.AsIChatClient(options.EffectiveModel, options.MaxOutputTokens);
    }

    private static IChatClient CreateOpenAI(ModelOptions options, HttpClient http)
    {
        var clientOptions = new OpenAIClientOptions
        {
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = OverallTimeout(options),
        };
        if (options.BaseUrl is { } baseUrl)
        {
            clientOptions.Endpoint = baseUrl;
        }

        // Local OpenAI-compatible servers accept any key; the SDK insists on a non-empty one.
        var key = string.IsNullOrWhiteSpace(options.ApiKey) ? "no-key" : options.ApiKey;
        return new OpenAIClient(new ApiKeyCredential(key), clientOptions)
            .GetChatClient(options.EffectiveModel)
            .AsIChatClient();
    }

    private static TimeSpan OverallTimeout(ModelOptions options) =>
        options.AttemptTimeout * (options.MaxRetries + 1) + TimeSpan.FromMinutes(2);
}
