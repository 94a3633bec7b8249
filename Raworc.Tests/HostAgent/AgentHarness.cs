using System.Text.Json.Nodes;
using Raworc.HostAgent.Api;
using Raworc.HostAgent.Model;
using Raworc.HostAgent.Tools;
using Raworc.HostAgent.Turns;

namespace Raworc.Tests.HostAgent;

/// <summary>A temporary session folder, a stand-in model, and the real agent pieces wired to them.</summary>
public sealed class AgentHarness : IAsyncDisposable
{
    private AgentHarness(string root, StandInModelServer model)
    {
        Root = root;
        Model = model;
    }

    /// <summary>The session folder (a fresh temporary directory).</summary>
    public string Root { get; }

    /// <summary>The stand-in model.</summary>
    public StandInModelServer Model { get; }

    /// <summary>The logs folder inside <see cref="Root"/>.</summary>
    public string LogsDirectory => Path.Combine(Root, "logs");

    /// <summary>Starts a stand-in with <paramref name="script"/> and creates a temporary session folder.</summary>
    public static async Task<AgentHarness> StartAsync(params ScriptStep[] script)
    {
        var root = Path.Combine(Path.GetTempPath(), "raworc-agent-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        return new AgentHarness(root, await StandInModelServer.StartAsync(script));
    }

    /// <summary>Model settings pointing at the stand-in in <paramref name="protocol"/>, with millisecond retry delays.</summary>
    public ModelOptions ModelOptionsFor(string protocol) => new()
    {
        Provider = protocol,
        Model = "stand-in-model",
        BaseUrl = Model.BaseUrlFor(protocol),
        ApiKey = "test-key-123",
        MaxRetries = 3,
        RetryDelay = TimeSpan.FromMilliseconds(10),
        AttemptTimeout = TimeSpan.FromSeconds(30),
        MaxModelCallsPerTurn = 30,
    };

    /// <summary>A turn runner over the real tools and the real provider client for <paramref name="protocol"/>.</summary>
    public TurnRunner CreateRunner(string protocol, ModelOptions? modelOptions = null, TurnOptions? turnOptions = null, IEnumerable<string>? secrets = null, TimeSpan? bashTimeout = null)
    {
        var model = modelOptions ?? ModelOptionsFor(protocol);
        var bash = new BashTool(new BashOptions { WorkingDirectory = Root, Timeout = bashTimeout ?? TimeSpan.FromSeconds(60) });
        var editor = new TextEditorTool(new ConfinedPaths(Root));
        var options = turnOptions ?? new TurnOptions
        {
            InstructionsPath = Path.Combine(Root, "code", "instructions.md"),
            LogsDirectory = LogsDirectory,
        };
        return new TurnRunner(ChatClientFactory.Create(model), model, AgentTools.Create(bash, editor), options, new Redactor(secrets ?? []));
    }

    /// <summary>A stored user message.</summary>
    public static SessionMessage User(string content) => Message(SessionMessage.UserRole, content, null);

    /// <summary>A stored host answer.</summary>
    public static SessionMessage HostAnswer(string content) =>
        Message(SessionMessage.HostRole, content, new JsonObject { ["type"] = MessageTypes.Response, ["model"] = "m" });

    /// <summary>A stored message with any role and metadata.</summary>
    public static SessionMessage Message(string role, string content, JsonObject? metadata) =>
        new(Guid.NewGuid().ToString(), "session-1", role, content, metadata, DateTimeOffset.UtcNow);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Model.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
