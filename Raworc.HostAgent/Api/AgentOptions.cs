namespace Raworc.HostAgent.Api;

/// <summary>
/// Where the Host finds its API and session. From the environment: <c>RAWORC_API_URL</c> (the API's origin, e.g.
/// <c>http://127.0.0.1:9000</c>; a trailing <c>/api/v0</c> is accepted), <c>RAWORC_SESSION_ID</c>, the Host token from
/// the file named by <c>RAWORC_HOST_TOKEN_FILE</c> (read once, then deleted: how a Raworc computer hands it over) or
/// else from <c>RAWORC_HOST_TOKEN</c>, and optionally <c>RAWORC_API_SOCKET</c>, <c>RAWORC_SESSION_DIR</c> (default
/// <c>/session</c>), <c>RAWORC_POLL_WAIT_SECONDS</c> (default 30) and <c>RAWORC_SETUP_COMMAND</c>.
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

    /// <summary>
    /// A program the agent runs once, before it reports ready (the image's <c>raworc-setup</c>, which runs the
    /// session's <c>code/setup.sh</c>); null for none. Skipped when the session folder has no <c>code/setup.sh</c>: the
    /// agent then writes the program's "none" outcome itself (<see cref="SetupRunner"/>).
    /// </summary>
    public string? SetupCommand { get; init; }

    /// <summary>Long-poll wait, 0…30 s; default 30.</summary>
    public int PollWaitSeconds { get; init; } = 30;

    /// <summary>
    /// The wait before the first new post of a tool message whose post failed transiently (a 5xx, a connection failure);
    /// each further one waits about twice as long (with jitter). Default 1 s, the API's <c>Retry-After</c> of a 503.
    /// </summary>
    public TimeSpan ToolMessageRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Reads the settings.</summary>
    /// <exception cref="InvalidOperationException">A required variable is missing or malformed; the message names it (never a value).</exception>
    public static AgentOptions FromEnvironment(AgentEnvironment configuration)
    {
        return new AgentOptions
        {
            ApiUrl = ParseApiUrl(Required(configuration, HostAgentVariables.ApiUrl)),
            ApiSocket = configuration[HostAgentVariables.ApiSocket] is { Length: > 0 } socket ? socket : null,
            SessionId = Required(configuration, HostAgentVariables.SessionId),
            HostToken = HostTokenFrom(configuration),
            SetupCommand = configuration[HostAgentVariables.SetupCommand] is { Length: > 0 } setup ? setup : null,
            SessionDirectory = configuration[HostAgentVariables.SessionDirectory] is { Length: > 0 } dir ? dir : "/session",
            PollWaitSeconds = PollWaitFrom(configuration),
        };
    }

    /// <summary><c>RAWORC_POLL_WAIT_SECONDS</c>: 0…30, 30 when unset.</summary>
    /// <exception cref="InvalidOperationException">Set but not an integer from 0 to 30.</exception>
    internal static int PollWaitFrom(AgentEnvironment configuration) => configuration[HostAgentVariables.PollWaitSeconds] switch
    {
        null => 30,
        var wait when int.TryParse(wait, out var seconds) && seconds is >= 0 and <= 30 => seconds,
        _ => throw new InvalidOperationException("RAWORC_POLL_WAIT_SECONDS must be an integer from 0 to 30."),
    };

    /// <summary>The API's origin from <c>RAWORC_API_URL</c>'s value, ending with a slash (a trailing <c>/api/v0</c> is dropped).</summary>
    /// <exception cref="InvalidOperationException">Not an absolute http(s) URL.</exception>
    public static Uri ParseApiUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var apiUrl) || apiUrl.Scheme is not ("http" or "https"))
        {
            throw new InvalidOperationException("RAWORC_API_URL must be an absolute http(s) URL such as http://127.0.0.1:9000.");
        }
        var path = apiUrl.AbsolutePath.TrimEnd('/');
        path = path.EndsWith("/api/v0", StringComparison.OrdinalIgnoreCase) ? path[..^"/api/v0".Length] : path;
        return new UriBuilder(apiUrl) { Path = path + "/", Query = "" }.Uri;
    }

    /// <summary>The most bytes a token file may hold; a JWT of the API is well under 1 KiB.</summary>
    public const int MaxTokenFileBytes = 16 * 1024;

    /// <summary>
    /// Takes the token from <c>RAWORC_HOST_TOKEN_FILE</c> and deletes the file, so that no later process of the computer
    /// (setup.sh, the tools) finds it; falls back to <c>RAWORC_HOST_TOKEN</c>.
    /// </summary>
    private static string HostTokenFrom(AgentEnvironment configuration)
    {
        return configuration[HostAgentVariables.HostTokenFile] is { Length: > 0 } path
            ? TakeTokenFile(path, HostAgentVariables.HostTokenFile, "Host token")
            : Required(configuration, HostAgentVariables.HostToken);
    }

    /// <summary>Reads a token file (at most <see cref="MaxTokenFileBytes"/>) and deletes it.</summary>
    /// <param name="path">The file.</param>
    /// <param name="variable">The variable that named it, for the error message.</param>
    /// <param name="what">What the token is, for the error message (<c>Host token</c>, <c>pool token</c>).</param>
    /// <exception cref="InvalidOperationException">The file is missing, unreadable, too large or empty.</exception>
    public static string TakeTokenFile(string path, string variable, string what)
    {
        string token;
        try
        {
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Read))
            {
                if (file.Length > MaxTokenFileBytes)
                {
                    throw new InvalidOperationException($"{variable} names a file too large to be a token.");
                }
                using var reader = new StreamReader(file);
                token = reader.ReadToEnd().Trim();
            }
            File.Delete(path);
        }
        catch (IOException exception)
        {
            throw new InvalidOperationException($"The {what} file named by {variable} cannot be read ({FailureText.Describe(exception)}).");
        }
        return token.Length > 0 ? token : throw new InvalidOperationException($"The {what} file named by {variable} is empty.");
    }

    /// <summary>Never prints the token.</summary>
    public override string ToString() => $"AgentOptions {{ ApiUrl = {ApiUrl}, SessionId = {SessionId}, SessionDirectory = {SessionDirectory} }}";

    private static string Required(AgentEnvironment configuration, string name) =>
        configuration[name] is { Length: > 0 } value ? value : throw new InvalidOperationException($"The environment variable {name} is required.");
}
