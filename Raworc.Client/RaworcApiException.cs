using System.Net;

namespace Raworc.Client;

/// <summary>
/// The API answered with an error status. Carries the contract's error envelope
/// (<c>{"error":{"code","message","details"?}}</c>), or, when the body was not one (a proxy's page), the status alone.
/// </summary>
public sealed class RaworcApiException : Exception
{
    /// <summary>Creates the exception from an answered error.</summary>
    /// <param name="status">The HTTP status.</param>
    /// <param name="code">The contract's code (<c>NOT_FOUND</c>, <c>CONFLICT</c>, …); <c>HTTP_&lt;status&gt;</c> when the body had none.</param>
    /// <param name="message">The API's sentence, safe to show to a user.</param>
    /// <param name="details">For <c>VALIDATION_ERROR</c>: field name → problems.</param>
    public RaworcApiException(HttpStatusCode status, string code, string message, IReadOnlyDictionary<string, string[]>? details = null)
        : base(message)
    {
        Status = status;
        Code = code;
        Details = details;
    }

    /// <summary>The HTTP status of the answer.</summary>
    public HttpStatusCode Status { get; }

    /// <summary>The contract's error code, e.g. <c>UNAUTHORIZED</c> (401), <c>NOT_FOUND</c> (404), <c>CONFLICT</c> (409).</summary>
    public string Code { get; }

    /// <summary>For <c>VALIDATION_ERROR</c> (422): field name → problems; otherwise null.</summary>
    public IReadOnlyDictionary<string, string[]>? Details { get; }
}
