using Microsoft.Extensions.AI;
using Raworc.HostAgent.Api;
using Raworc.HostAgent.Model;
using Raworc.HostAgent.Tools;
using Raworc.HostAgent.Turns;

namespace Raworc.HostAgent;

/// <summary>
/// Puts the Host agent together from its environment, by hand: settings, one <see cref="HttpClient"/> for the API,
/// one for the model (through the API's gateway in a computer), the tools and the loop. No host, DI container or
/// configuration framework: they would be most of what an idle agent holds in memory, and the agent has nothing
/// for them to choose between. In two steps, so that a warm-pool computer does the first before its claim: what
/// belongs to the computer (<see cref="Prepare"/>), then what belongs to the session (<see cref="PreparedAgent.Complete"/>).
/// </summary>
public static class HostAgentSetup
{
    /// <summary>Variable naming the Anthropic computer-use tool type (<see cref="ModelOptions.AnthropicComputerTool"/>).</summary>
    public const string AnthropicComputerToolVariable = "RAWORC_ANTHROPIC_COMPUTER_TOOL";

    /// <summary>
    /// Creates the agent's loop, not yet running: <see cref="Prepare"/> and <see cref="PreparedAgent.Complete"/> on the same
    /// variables. Reads <see cref="AgentOptions"/>, <see cref="ModelOptions"/> and the secrets to redact (values of the
    /// variables named in <c>RAWORC_SECRET_NAMES</c>, plus the Host token and model keys).
    /// </summary>
    /// <param name="environment">The variables (<see cref="AgentEnvironment.FromProcess"/> in a computer).</param>
    /// <param name="log">Where the loop and the function-invocation layer log.</param>
    /// <exception cref="InvalidOperationException">A required variable is missing or malformed (the message names it, never a value).</exception>
    /// <exception cref="FormatException">A model variable is malformed (the message names it).</exception>
    public static AgentService Create(AgentEnvironment environment, ILoggerFactory log) => Prepare(environment, log).Complete(environment);

    /// <summary>
    /// Builds every part that depends on the computer alone, none of a session: the connection pool to the API (its Unix
    /// socket or TCP), the API's <see cref="HttpClient"/> (no credentials yet) and the tools. Reads <c>RAWORC_API_URL</c>
    /// (required), <c>RAWORC_API_SOCKET</c>, <c>RAWORC_SESSION_DIR</c>, <c>RAWORC_POLL_WAIT_SECONDS</c>,
    /// <c>RAWORC_TOOL_PROCESS_LIMIT</c>, <c>RAWORC_DESKTOP_SIZE</c> and <c>RAWORC_NETWORK_PENDING</c>; starts no process (the bash tool's standby shell
    /// waits for the session's environment).
    /// </summary>
    /// <param name="computer">The computer's variables (before a claim, a pooled computer's: no session's).</param>
    /// <param name="log">Where the loop and the function-invocation layer will log.</param>
    /// <exception cref="InvalidOperationException"><c>RAWORC_API_URL</c> or <c>RAWORC_POLL_WAIT_SECONDS</c> is missing or malformed.</exception>
    public static PreparedAgent Prepare(AgentEnvironment computer, ILoggerFactory log)
    {
        var apiUrl = AgentOptions.ParseApiUrl(computer[HostAgentVariables.ApiUrl] is { Length: > 0 } url
            ? url : throw new InvalidOperationException($"The environment variable {HostAgentVariables.ApiUrl} is required."));
        var socket = computer[HostAgentVariables.ApiSocket] is { Length: > 0 } path ? path : null;
        var pollWait = AgentOptions.PollWaitFrom(computer);

        // One connection pool to the API for everything: the warm pool's claim, the API's calls and, through the gateway,
        // the model's, so that the ready report and a turn's first model call find a connection already open.
        // No resilience handler on the API's calls: a per-attempt timeout would cut long-polls and a retry could post a
        // message twice; the agent's loop retries with backoff instead.
#pragma warning disable CA2000 // The handler and the clients live as long as the process.
        // Every call of a turn carries the answered message's traceparent (TurnTrace), the model's through the gateway too.
        var transport = new TurnTrace.Handler(ApiTransport.CreateHandler(socket));
        var http = new HttpClient(transport, disposeHandler: false)
        {
            BaseAddress = apiUrl,
            Timeout = TimeSpan.FromSeconds(pollWait + 30),
        };
#pragma warning restore CA2000

        var root = computer[HostAgentVariables.SessionDirectory] is { Length: > 0 } dir ? dir : "/session";
        if (!OperatingSystem.IsWindows() && Directory.Exists(root))
        {
            // Before the standby shell starts in it: the session's code may have taken the folders' permissions away.
            Api.BootExchange.EnsureFolders(root);
        }
        var network = NetworkAttachment.FromEnvironment(computer);
        var bash = new BashTool(new BashOptions
        {
            Network = network,
            WorkingDirectory = root,
            ProcessLimit = int.TryParse(computer[HostAgentVariables.ToolProcessLimit], out var processes) && processes > 0 ? processes : null,
            // A shell started ahead of each command holds the slot it needs (README "The Host's own survival").
            StandbyShell = true,
        });
        var editor = new TextEditorTool(new ConfinedPaths(root));
        var turn = new TurnOptions
        {
            InstructionsPath = Path.Combine(root, "code", "instructions.md"),
            LogsDirectory = Path.Combine(root, "logs"),
        };
        return new PreparedAgent(transport, http, bash, editor, turn, computer[HostAgentVariables.DesktopSize], network, log);
    }
}

/// <summary>
/// The Host agent built as far as it goes without a session (<see cref="HostAgentSetup.Prepare"/>): its API transport and
/// client, its tools. <see cref="Complete"/> adds the session's part once it is known.
/// </summary>
public sealed class PreparedAgent
{
    private readonly TurnTrace.Handler _transport;
    private readonly HttpClient _http;
    private readonly BashTool _bash;
    private readonly TextEditorTool _editor;
    private readonly TurnOptions _turn;
    private readonly string? _desktopSize;
    private readonly NetworkAttachment _network;
    private readonly ILoggerFactory _log;

    internal PreparedAgent(TurnTrace.Handler transport, HttpClient http, BashTool bash, TextEditorTool editor, TurnOptions turn,
        string? desktopSize, NetworkAttachment network, ILoggerFactory log) =>
        (_transport, _http, _bash, _editor, _turn, _desktopSize, _network, _log) = (transport, http, bash, editor, turn, desktopSize, network, log);

    /// <summary>
    /// The handler every API connection goes through (socket or TCP, with the connection pool the loop uses later); the
    /// warm pool's claim waits on it, so the ready report reuses the claim's open connection.
    /// </summary>
    public HttpMessageHandler Transport => _transport;

    /// <summary>The API's origin the client was made for (<c>RAWORC_API_URL</c>, ending with a slash).</summary>
    public Uri ApiUrl => _http.BaseAddress!;

    /// <summary>
    /// Adds what belongs to the session and returns the loop, not yet running: the settings (session id, Host token), the
    /// Host token as the API client's bearer, the secrets to redact, the model client.
    /// </summary>
    /// <param name="environment">The variables, the session's included (a claim's handed-over values read first).</param>
    /// <exception cref="InvalidOperationException">A required variable is missing or malformed (the message names it, never a value).</exception>
    /// <exception cref="FormatException">A model variable is malformed (the message names it).</exception>
    public AgentService Complete(AgentEnvironment environment)
    {
        var agent = AgentOptions.FromEnvironment(environment);
        var model = ModelOptions.FromEnvironment(environment).ThroughGateway(agent);
        if (environment[HostAgentSetup.AnthropicComputerToolVariable] is { Length: > 0 } computerTool)
        {
            model = model with { AnthropicComputerTool = computerTool };
        }
        _http.DefaultRequestHeaders.Authorization = new("Bearer", agent.HostToken);

        var redactor = new Redactor(Redactor.FromEnvironment(environment).Secrets
            .Concat([agent.HostToken, environment[HostAgentVariables.AnthropicApiKey], environment[HostAgentVariables.OpenAiApiKey]]));
        // Through the gateway, model calls take the same way to the API as the agent's other calls (its socket, if any).
        IChatClient? chat = model.ConfigurationProblem is null
            ? ChatClientFactory.Create(model, _log, model.Gateway ? _transport : null)
            : null;

        // A desktop (RAWORC_DESKTOP_SIZE, set by the API for sessions created with "desktop": true) adds the computer tool,
        // whose screenshots are scaled to what the provider recommends.
        var display = ComputerDisplay.Parse(_desktopSize,
            model.Provider == ModelOptions.OpenAI ? ComputerDisplay.OpenAIBox : ComputerDisplay.AnthropicBox);
        var computer = display is null ? null : new ComputerTool(display);
        var runner = new TurnRunner(chat, model, AgentTools.Create(_bash, _editor, computer), _turn, redactor);
        // The standby shell inherits the environment it is started in: only now does that hold the session's variables.
        return new AgentService(new RaworcApiClient(_http, agent), runner, agent, _log.CreateLogger<AgentService>(), _bash.StartStandby, _network);
    }
}
