using Microsoft.Extensions.AI;
using Raworc.HostAgent.Api;
using Raworc.HostAgent.Model;
using Raworc.HostAgent.Tools;
using Raworc.HostAgent.Turns;

namespace Raworc.HostAgent;

/// <summary>Registers the Host agent: settings from the environment, the API client, the model, the tools and the loop.</summary>
public static class HostAgentExtensions
{
    /// <summary>Variable naming the Anthropic computer-use tool type (<see cref="ModelOptions.AnthropicComputerTool"/>).</summary>
    public const string AnthropicComputerToolVariable = "RAWORC_ANTHROPIC_COMPUTER_TOOL";

    /// <summary>
    /// Adds <see cref="AgentService"/> and what it needs. Reads <see cref="AgentOptions"/>, <see cref="ModelOptions"/> and the
    /// secrets to redact (values of the variables named in <c>RAWORC_SECRET_NAMES</c>, plus the Host token and model keys).
    /// </summary>
    /// <exception cref="InvalidOperationException">A required variable is missing (the message names it).</exception>
    public static TBuilder AddHostAgent<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var configuration = builder.Configuration;
        var agent = AgentOptions.FromConfiguration(configuration);
        var model = ModelOptions.FromConfiguration(configuration).ThroughGateway(agent);
        if (configuration[AnthropicComputerToolVariable] is { Length: > 0 } computerTool)
        {
            model = model with { AnthropicComputerTool = computerTool };
        }
        var services = builder.Services;
        services.AddSingleton(agent);
        services.AddSingleton(model);
        var apiClient = services.AddHttpClient<RaworcApiClient>(http =>
        {
            http.BaseAddress = agent.ApiUrl;
            http.DefaultRequestHeaders.Authorization = new("Bearer", agent.HostToken);
            http.Timeout = TimeSpan.FromSeconds(agent.PollWaitSeconds + 30);
        }).ConfigurePrimaryHttpMessageHandler(() => ApiTransport.CreateHandler(agent));

        // The standard handler's 10 s attempt timeout would cut long-polls, and its retries could post a message
        // twice; the agent's loop retries with backoff instead. The API is marked experimental (EXTEXP0001).
#pragma warning disable EXTEXP0001
        apiClient.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        services.AddSingleton(_ => new Redactor(
            Redactor.FromEnvironment(configuration).Secrets
                .Concat([agent.HostToken, configuration[HostAgentVariables.AnthropicApiKey], configuration[HostAgentVariables.OpenAiApiKey]])));
        if (model.ConfigurationProblem is null)
        {
            // Through the gateway, model calls take the same way to the API as the agent's other calls (its socket, if any).
            services.AddSingleton(provider => ChatClientFactory.Create(model, provider.GetService<ILoggerFactory>(),
                model.Gateway ? ApiTransport.CreateHandler(agent) : null));
        }

        services.AddSingleton(provider =>
        {
            var root = agent.SessionDirectory;
            var bash = new BashTool(new BashOptions
            {
                WorkingDirectory = root,
                ProcessLimit = int.TryParse(configuration[HostAgentVariables.ToolProcessLimit], out var processes) && processes > 0 ? processes : null,
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
            var display = ComputerDisplay.Parse(configuration[HostAgentVariables.DesktopSize],
                model.Provider == ModelOptions.OpenAI ? ComputerDisplay.OpenAIBox : ComputerDisplay.AnthropicBox);
            var computer = display is null ? null : new ComputerTool(display);
            return new TurnRunner(provider.GetService<IChatClient>(), model, AgentTools.Create(bash, editor, computer), turn, provider.GetRequiredService<Redactor>());
        });
        services.AddHostedService<AgentService>();
        return builder;
    }
}
