namespace Raworc.HostAgent.Api;

/// <summary>
/// Where the Host finds its API and session. From the environment: <c>RAWORC_API_URL</c> (the API's origin, e.g.
/// <c>http://127.0.0.1:9000</c>; a trailing <c>/api/v0</c> is accepted), <c>RAWORC_SESSION_ID</c>, <c>RAWORC_HOST_TOKEN</c>,
/// and optionally <c>RAWORC_SESSION_DIR</c> (default <c>/session</c>) and <c>RAWORC_POLL_WAIT_SECONDS</c> (default 30).
/// </summary>
public sealed record AgentOptions
{
    /// <summary>The API's origin, ending with a slash.</summary>
    public required Uri ApiUrl { get; init; }

    /// <summary>
    /// Path of the API's Unix socket (<c>RAWORC_API_SOCKET</c>), or null for TCP to <see cref="ApiUrl"/>. When set, every
    /// API connection goes to the socket (see <see cref="ApiTransport"/>).
    /// </summary>
    public string? ApiSocket { get; init; }

    /// <summary>The session's id (UUID) or name.</summary>
    public required string SessionId { get; init; }

    /// <summary>The session-scoped Host token (a JWT); sent as bearer, never logged.</summary>
    public required string HostToken { get; init; }

    /// <summary>The session folder; tools are confined to it; default <c>/session</c>.</summary>
    public string SessionDirectory { get; init; } = "/session";

    /// <summary>Long-poll wait, 0…30 s; default 30.</summary>
    public int PollWaitSeconds { get; init; } = 30;

    /// <summary>Reads the settings.</summary>
    /// <exception cref="InvalidOperationException">A required variable is missing or malformed; the message names it (never a value).</exception>
    public static AgentOptions FromConfiguration(IConfiguration configuration)
    {
        var url = Required(configuration, "RAWORC_API_URL");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var apiUrl) || apiUrl.Scheme is not ("http" or "https"))
        {
            throw new InvalidOperationException("RAWORC_API_URL must be an absolute http(s) URL such as http://127.0.0.1:9000.");
        }

        var path = apiUrl.AbsolutePath.TrimEnd('/');
        path = path.EndsWith("/api/v0", StringComparison.OrdinalIgnoreCase) ? path[..^"/api/v0".Length] : path;
        var wait = configuration["RAWORC_POLL_WAIT_SECONDS"];
        return new AgentOptions
        {
            ApiUrl = new UriBuilder(apiUrl) { Path = path + "/", Query = "" }.Uri,
            ApiSocket = configuration["RAWORC_API_SOCKET"] is { Length: > 0 } socket ? socket : null,
            SessionId = Required(configuration, "RAWORC_SESSION_ID"),
            HostToken = Required(configuration, "RAWORC_HOST_TOKEN"),
            SessionDirectory = configuration["RAWORC_SESSION_DIR"] is { Length: > 0 } dir ? dir : "/session",
            PollWaitSeconds = wait is null ? 30
                : int.TryParse(wait, out var seconds) && seconds is >= 0 and <= 30 ? seconds
                : throw new InvalidOperationException("RAWORC_POLL_WAIT_SECONDS must be an integer from 0 to 30."),
        };
    }

    /// <summary>Never prints the token.</summary>
    public override string ToString() => $"AgentOptions {{ ApiUrl = {ApiUrl}, SessionId = {SessionId}, SessionDirectory = {SessionDirectory} }}";

    private static string Required(IConfiguration configuration, string name) =>
        configuration[name] is { Length: > 0 } value ? value : throw new InvalidOperationException($"The environment variable {name} is required.");
}
