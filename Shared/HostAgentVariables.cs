namespace Raworc;

/// <summary>
/// The environment variables of a session's computer that the API sets and the Host agent reads, compiled into both so
/// the two cannot drift apart. Values are strings; numbers are decimal, invariant culture.
/// </summary>
internal static class HostAgentVariables
{
    /// <summary>Base URL of the Raworc API as the agent addresses it, e.g. <c>http://raworc-api/</c> behind the socket.</summary>
    public const string ApiUrl = "RAWORC_API_URL";

    /// <summary>Path of the API's Unix socket inside the computer (<c>/run/raworc/api.sock</c>); unset means plain TCP to <see cref="ApiUrl"/>.</summary>
    public const string ApiSocket = "RAWORC_API_SOCKET";

    /// <summary>The session-scoped Host token (a JWT) itself; only for agents run outside a computer (tests).</summary>
    public const string HostToken = "RAWORC_HOST_TOKEN";

    /// <summary>File the agent reads its Host token from and then deletes (<c>/session/.raworc/host-token</c>).</summary>
    public const string HostTokenFile = "RAWORC_HOST_TOKEN_FILE";

    /// <summary>
    /// File holding a warm-pool computer's pool token (<c>/session/.raworc/pool-token</c>): when set, the agent reads and
    /// deletes it, waits on the claim route for its session, and takes the session's Host token, variables and files from
    /// the claim instead of from this environment.
    /// </summary>
    public const string PoolTokenFile = "RAWORC_POOL_TOKEN_FILE";

    /// <summary>
    /// A cold start's one-time boot ticket: the agent removes it from its own environment, then exchanges it
    /// (<c>POST /api/v0/boot</c>) for the Host token, which stays in memory, and, with <see cref="SeedVolume"/>, the files
    /// of a new volume. Spent once exchanged, so the copy that stays readable in the computer (the init process's
    /// environment) opens nothing.
    /// </summary>
    public const string BootTicket = "RAWORC_BOOT_TICKET";

    /// <summary><c>true</c> beside <see cref="BootTicket"/> when the volume is new: the exchange then also hands over the seed files.</summary>
    public const string SeedVolume = "RAWORC_SEED_VOLUME";

    /// <summary>The session's id, "D" format.</summary>
    public const string SessionId = "RAWORC_SESSION_ID";

    /// <summary>The session's folder (default <c>/session</c>).</summary>
    public const string SessionDirectory = "RAWORC_SESSION_DIR";

    /// <summary>Program the agent runs before it reports ready (runs <c>setup.sh</c>), e.g. <c>/usr/local/bin/raworc-setup</c>.</summary>
    public const string SetupCommand = "RAWORC_SETUP_COMMAND";

    /// <summary>Time limit of <c>setup.sh</c>, in seconds (default 300).</summary>
    public const string SetupTimeout = "RAWORC_SETUP_TIMEOUT";

    /// <summary>Seconds of each long-poll for new messages.</summary>
    public const string PollWaitSeconds = "RAWORC_POLL_WAIT_SECONDS";

    /// <summary>Comma-separated names of the session's secrets, whose values the agent redacts.</summary>
    public const string SecretNames = "RAWORC_SECRET_NAMES";

    /// <summary>Model provider the agent speaks to the gateway: <c>anthropic</c> or <c>openai</c>.</summary>
    public const string ModelProvider = "RAWORC_MODEL_PROVIDER";

    /// <summary>Model name; empty for the agent's default.</summary>
    public const string Model = "RAWORC_MODEL";

    /// <summary>Provider base URL for an agent that calls its provider directly (outside a computer; never set by the API).</summary>
    public const string ModelBaseUrl = "RAWORC_MODEL_BASE_URL";

    /// <summary>Most model calls in one turn.</summary>
    public const string MaxModelCalls = "RAWORC_MAX_MODEL_CALLS";

    /// <summary>Most processes the Host's tools may run at once (set under gVisor, where the pids cgroup is not enforced).</summary>
    public const string ToolProcessLimit = "RAWORC_TOOL_PROCESS_LIMIT";

    /// <summary>
    /// Size of the session's desktop as <c>WIDTHxHEIGHT</c> in pixels (e.g. <c>1280x800</c>); set only for sessions with a
    /// desktop. The image's entry point starts the display at that size, and the agent offers its <c>computer</c> tool.
    /// </summary>
    public const string DesktopSize = "RAWORC_DESKTOP_SIZE";

    /// <summary>
    /// <c>true</c> when the API attaches the computer's network only after its start (the single engine does under runc, to keep
    /// Docker's ~0.2 s of endpoint set-up off the start): the agent then holds <c>setup.sh</c> and its first command until
    /// the computer has a route out (at most <c>NetworkAttachment.Limit</c>). Unset: the network (or none) is there from
    /// the start.
    /// </summary>
    public const string NetworkPending = "RAWORC_NETWORK_PENDING";

    /// <summary>The X display of the desktop (<c>:1</c>), set beside <see cref="DesktopSize"/>.</summary>
    public const string Display = "DISPLAY";

    /// <summary>The desktop's X display number: <see cref="Display"/> is <c>:1</c>.</summary>
    public const int DisplayNumber = 1;

    /// <summary>Anthropic key: never set by the platform; the name of a session's own key among its secrets.</summary>
    public const string AnthropicApiKey = "ANTHROPIC_API_KEY";

    /// <summary>OpenAI-compatible key: never set by the platform; the name of a session's own key among its secrets.</summary>
    public const string OpenAiApiKey = "OPENAI_API_KEY";
}
