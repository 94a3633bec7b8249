namespace Raworc.ApiService.Errors;

/// <summary>
/// A failure that maps to one error envelope. Thrown where returning a typed result is impractical
/// (deep in a helper); <see cref="ApiExceptionHandler"/> turns it into the response.
/// </summary>
/// <param name="status">The HTTP status (4xx).</param>
/// <param name="message">A human-readable sentence that is safe to show to the caller.</param>
/// <param name="details">For 422: field name → problems.</param>
public sealed class ApiException(int status, string message, IReadOnlyDictionary<string, string[]>? details = null)
    : Exception(message)
{
    /// <summary>The HTTP status of the response.</summary>
    public int Status { get; } = status;

    /// <summary>For 422: field name → problems; otherwise null.</summary>
    public IReadOnlyDictionary<string, string[]>? Details { get; } = details;
}
