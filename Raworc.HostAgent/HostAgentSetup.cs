using Microsoft.Extensions.AI;
using Raworc.HostAgent.Api;
using Raworc.HostAgent.Model;
using Raworc.HostAgent.Tools;
using Raworc.HostAgent.Turns;

namespace Raworc.HostAgent;

/// <summary>
/// Puts the Host agent together from its environment, by hand: settings, one <see cref="HttpClient"/> for the API,
/// one for the model (through the API's gateway in a computer), the tools and the loop. No host, DI container or
/// configuration framework: they would be most of what an idle agent holds in memory, and the agent has nothing for
/// them to choose between.
/// </summary>
public static class HostAgentSetup
{
    /// <summary>Variable naming the Anthropic computer-use tool type (<see cref="ModelOptions.AnthropicComputerTool"/>).</summary>
    public const string AnthropicComputerToolVariable = "RAWORC_ANTHROPIC_COMPUTER_TOOL";

    /// <summary>
    /// Creates the agent's loop, not yet running. Reads <see cref="AgentOptions"/>, <see cref="ModelOptions"/> and the
    /// secrets to redact (values of the variables named in <c>RAWORC_SECRET_NAMES</c>, plus the Host token and model keys).
    /// </summary>
    /// <param name="environment">The variables (<see cref="AgentEnvironment.FromProcess"/> in a computer).</param>
    /// <param name="log">Where the loop and the function-invocation layer log.</param>
    /// <exception cref="InvalidOperationException">A required variable is missing or malformed (the message names it, never a value).</exception>
    /// <exception cref="FormatException">A model variable is malformed (the message names it).</exception>
    public static AgentService Create(AgentEnvironment environment, ILoggerFactory log)
    {
        var agent = AgentOptions.FromEnvironment(environment);
        var model = ModelOptions.FromEnvironment(environment).ThroughGateway(agent);
        if (environment[AnthropicComputerToolVariable] is { Length: > 0 } computerTool)
        {
            model = model with { AnthropicComputerTool = computerTool };
        }

        // One connection pool to the API for everything: its calls and, through the gateway, the model's, so that a
        // turn's first model call finds a connection already open (a computer's first answer pays no connect).
        // No resilience handler on the API's calls: a per-attempt timeout would cut long-polls and a retry could post a
        // message twice; the agent's loop retries with backoff instead.
#pragma warning disable CA2000 // The handler and the clients live as long as the process.
        // Every call of a turn carries the answered message's traceparent (TurnTrace), the model's through the gateway too.
        var transport = new TurnTrace.Handler(ApiTransport.CreateHandler(agent));
        var http = new HttpClient(transport, disposeHandler: false)
        {
            BaseAddress = agent.ApiUrl,
            Timeout = TimeSpan.FromSeconds(agent.PollWaitSeconds + 30),
        };
#pragma warning restore CA2000
        http.DefaultRequestHeaders.Authorization = new("Bearer", agent.HostToken);

        var redactor = new Redactor(Redactor.FromEnvironment(environment).Secrets
            .Concat([agent.HostToken, environment[HostAgentVariables.AnthropicApiKey], environment[HostAgentVariables.OpenAiApiKey]]));
        // Through the gateway, model calls take the same way to the API as the agent's other calls (its socket, if any).
        IChatClient? chat = model.ConfigurationProblem is null
            ? ChatClientFactory.Create(model, log, model.Gateway ? transport : null)
            : null;

        var root = agent.SessionDirectory;
        var bash = new BashTool(new BashOptions
        {
            WorkingDirectory = root,
            ProcessLimit = int.TryParse(environment[HostAgentVariables.ToolProcessLimit], out var processes) && processes > 0 ? processes : null,
            // A shell started ahead of each command holds the slot it needs (README "The Host's own survival").
            StandbyShell = true,
        });
        var editor = new TextEditorTool(new ConfinedPaths(root));
        var turn = new TurnOptions
        {
            InstructionsPath = Path.Combine(root, "code", "instructions.md"),
            LogsDirectory = Path.Combine(root, "logs"),
        };
        // A desktop (RAWORC_DESKTOP_SIZE, set by the API for sessions created with "desktop": true) adds the computer tool,
        // whose screenshots are scaled to what the provider recommends.
        var display = ComputerDisplay.Parse(environment[HostAgentVariables.DesktopSize],
            model.Provider == ModelOptions.OpenAI ? ComputerDisplay.OpenAIBox : ComputerDisplay.AnthropicBox);
        var computer = display is null ? null : new ComputerTool(display);
        var runner = new TurnRunner(chat, model, AgentTools.Create(bash, editor, computer), turn, redactor);
        return new AgentService(new RaworcApiClient(http, agent), runner, agent, log.CreateLogger<AgentService>());
    }
}
