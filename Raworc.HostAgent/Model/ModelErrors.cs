using Polly.Timeout;

namespace Raworc.HostAgent.Model;

/// <summary>Turns a failed model call into a sentence a user can act on. Never includes the key or raw exception text.</summary>
public static class ModelErrors
{
    /// <summary>Describes <paramref name="exception"/>, e.g. "The model provider rejected the API key (401). …".</summary>
    /// <param name="exception">What the model client threw after the retries.</param>
    /// <param name="options">The settings, to name the provider, model and retries.</param>
    public static string Describe(Exception exception, ModelOptions options)
    {
        var keyName = options.Provider == ModelOptions.OpenAI ? HostAgentVariables.OpenAiApiKey : HostAgentVariables.AnthropicApiKey;
        var retried = $"after {options.MaxRetries} retries";
        return StatusOf(exception) switch
        {
            401 => $"The model provider rejected the API key (401). Check {keyName}.",
            403 => $"The model provider refused access with this API key (403). Check {keyName} and the account's permissions.",
            404 => $"The model provider does not know the model '{options.EffectiveModel}' or the endpoint (404). Check RAWORC_MODEL and RAWORC_MODEL_BASE_URL.",
            429 => $"The model provider kept rate-limiting the requests (429) {retried}. Try again later.",
            400 => "The model provider refused the request as invalid (400)" + ApiMessage(exception) + ".",
            >= 500 and var status => $"The model provider failed with HTTP {status} {retried}. Try again later.",
            { } status => $"The model provider answered HTTP {status}" + ApiMessage(exception) + ".",
            null when IsTimeout(exception) => $"The model provider did not answer in time {retried}.",
            null when IsConnection(exception) => $"The model provider could not be reached{(options.BaseUrl is null ? "" : $" at {options.BaseUrl}")} {retried}.",
            null => $"The model call failed ({FailureText.Describe(exception)}).",
        };
    }

    private static int? StatusOf(Exception exception) => exception switch
    {
        ModelProviderException provider => (int)provider.Status,
        HttpRequestException { StatusCode: { } code } => (int)code,
        _ when exception.InnerException is { } inner => StatusOf(inner),
        _ => null,
    };

    private static bool IsTimeout(Exception exception) => exception switch
    {
        TimeoutRejectedException or TimeoutException or TaskCanceledException => true,
        _ => exception.InnerException is { } inner && IsTimeout(inner),
    };

    private static bool IsConnection(Exception exception) => exception switch
    {
        HttpRequestException => true,
        _ => exception.InnerException is { } inner && IsConnection(inner),
    };

    private static string ApiMessage(Exception exception)
    {
        var message = exception switch
        {
            ModelProviderException provider => provider.ApiMessage,
            _ => null,
        };
        return string.IsNullOrWhiteSpace(message) ? "" : $": {(message.Length > 300 ? message[..300] + "…" : message)}";
    }
}
