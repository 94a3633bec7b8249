using Polly.Timeout;
using Raworc.HostAgent.Api;
using Raworc.HostAgent.Model;

namespace Raworc;

/// <summary>The Host agent's dependencies in the words of <see cref="FailureText.Describe"/>.</summary>
internal static partial class FailureText
{
    private static partial string? DescribeOwn(Exception exception) => exception switch
    {
        // Its message is the request, the status and the API's own error text (the contract's envelope), e.g.
        // "POST message answered 409 CONFLICT: The session is closed; …".
        RaworcApiException api => api.Message,
        ModelProviderException provider => $"the model provider answered {(int)provider.Status}",
        TimeoutRejectedException => "the call timed out",
        _ => null,
    };
}
