using System.Net;

namespace Raworc.HostAgent.Model;

/// <summary>The model provider (or the gateway in front of it) answered an error status after the retries.</summary>
/// <param name="status">The HTTP status.</param>
/// <param name="apiMessage">The provider's own reason (<c>error.message</c>), or null when the body had none.</param>
public sealed class ModelProviderException(HttpStatusCode status, string? apiMessage)
    : Exception($"The model provider answered HTTP {(int)status}.")
{
    /// <summary>The HTTP status.</summary>
    public HttpStatusCode Status => status;

    /// <summary>The provider's reason, as it wrote it; may be null.</summary>
    public string? ApiMessage => apiMessage;
}
