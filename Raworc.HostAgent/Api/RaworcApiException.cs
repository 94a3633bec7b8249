using System.Net;

namespace Raworc.HostAgent.Api;

/// <summary>The API answered an error; the message names the request and the API's code and reason (never the token).</summary>
/// <param name="status">The HTTP status.</param>
/// <param name="code">The API's error code, e.g. <c>CONFLICT</c>, or null when the body had none.</param>
/// <param name="message">A readable description.</param>
public sealed class RaworcApiException(HttpStatusCode status, string? code, string message) : Exception(message)
{
    /// <summary>The HTTP status.</summary>
    public HttpStatusCode Status => status;

    /// <summary>The API's error code (spec/API.md), or null.</summary>
    public string? Code => code;
}
