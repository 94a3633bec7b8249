using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Raworc.Tests.HostAgent;

namespace Raworc.Tests.Infrastructure;

/// <summary>
/// The whole AppHost (real Postgres, Redis and the API), started once for the test collection. The shared API-only system
/// (<see cref="RaworcAppCollection"/>, this class itself) also has an Anthropic platform model served by a stand-in
/// (<see cref="PlatformModel"/>) and reaches the Docker engine through a proxy that records what talks to it
/// (<see cref="Engine"/>): the model gateway's and the dashboard's tests need no system of their own. A subclass sets its
/// own environment instead (<see cref="ApiEnvironment"/>) and has neither.
/// </summary>
public class RaworcAppFixture : IAsyncLifetime
{
    /// <summary>The bootstrap admin password the tests run with.</summary>
    public const string AdminPassword = "admin-test-password-1";

    /// <summary>The JWT signing key the tests run with, so they can forge expired or mis-addressed tokens.</summary>
    public const string JwtSigningKey = "test-signing-key-0123456789abcdef0123456789abcdef";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);

    /// <summary>The shared system's platform Anthropic key.</summary>
    public const string PlatformAnthropicKey = "platform-anthropic-key";

    private DistributedApplication? _app;
    private StandInModelServer? _platformModel;
    private EngineProxy? _engine;

    /// <summary>Whether this is the shared API-only system, the only one with <see cref="PlatformModel"/> and <see cref="Engine"/>.</summary>
    private bool Shared => GetType() == typeof(RaworcAppFixture);

    /// <summary>The stand-in behind the shared system's Anthropic platform model (and a session's own key); tests call the gateway with forged Host tokens, as an agent would.</summary>
    public StandInModelServer PlatformModel => _platformModel ?? throw new InvalidOperationException("Only the shared API-only system has a platform model.");

    /// <summary>The engine address the shared system's API and dashboard were given: a proxy in front of the local engine.</summary>
    public EngineProxy Engine => _engine ?? throw new InvalidOperationException("Only the shared API-only system has an engine proxy.");

    /// <summary>Whether the API runs session computers; the API-only collection runs without, so tests drive states with Host tokens.</summary>
    protected virtual bool Computers => false;

    /// <summary>The started application.</summary>
    public DistributedApplication App => _app ?? throw new InvalidOperationException("The AppHost has not started.");

    /// <summary>A client whose base address is the API's HTTP endpoint (no resilience handler: tests see every failure).</summary>
    public HttpClient CreateApiClient() => App.CreateHttpClient(ResourceNames.Api, "http");

    /// <summary>A client that sends <paramref name="token"/> as its bearer token.</summary>
    public HttpClient CreateApiClient(string token)
    {
        var client = CreateApiClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return client;
    }

    /// <summary>Logs in as <paramref name="user"/> and returns the token.</summary>
    public async Task<string> LoginAsync(string user, string pass)
    {
        using var client = CreateApiClient();
        var response = await client.PostAsync($"/api/v0/operators/{user}/login", Http.Json(new { pass }));
        Assert.True(response.IsSuccessStatusCode, $"login of {user} failed: {await response.Content.ReadAsStringAsync()}");
        return (string)(await response.ReadObjectAsync())["token"]!;
    }

    /// <summary>
    /// A client holding a Host token for <paramref name="sessionId"/> (the token the platform gives the session's agent) for
    /// computer start <paramref name="start"/> (a new session's first computer is start 0; every close, error and restore adds one).
    /// </summary>
    public HttpClient CreateHostClient(Guid sessionId, int start = 0) => CreateApiClient(HostToken(sessionId, start));

    /// <summary>The Host token of <paramref name="sessionId"/>'s computer start <paramref name="start"/> (see <see cref="CreateHostClient"/>).</summary>
    public string HostToken(Guid sessionId, int start = 0) => Auth.TokenForgery.Create(JwtSigningKey,
        subject: $"host-{sessionId}", type: "Host",
        extra: new Dictionary<string, object> { ["session_id"] = sessionId.ToString(), ["start"] = start });

    /// <summary>Runs a query against the API's database and returns the first column of every row.</summary>
    public async Task<List<T>> QueryAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new Npgsql.NpgsqlConnection(await App.GetConnectionStringAsync(ResourceNames.Database));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetFieldValue<T>(0));
        }
        return rows;
    }

    /// <summary>A client logged in as the bootstrap admin.</summary>
    public async Task<HttpClient> AdminClientAsync() => CreateApiClient(await LoginAsync("admin", AdminPassword));

    /// <summary>Creates an operator with a unique name (prefix + random suffix) and returns its name and a logged-in client.</summary>
    public async Task<(string Name, HttpClient Client)> CreateOperatorAsync(string prefix, bool admin = false, string pass = "operator-pass-1")
    {
        var name = $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";
        using var adminClient = await AdminClientAsync();
        var response = await adminClient.PostAsync("/api/v0/operators", Http.Json(new { user = name, pass, admin }));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (name, CreateApiClient(await LoginAsync(name, pass)));
    }

    /// <summary>Runs before the AppHost is built (a subclass starts what the API will be pointed at).</summary>
    protected virtual Task BeforeStartAsync() => Task.CompletedTask;

    /// <summary>Further AppHost arguments of a subclass.</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    /// <summary>Further environment of the api resource: the shared system's platform model and engine, or a subclass's own.</summary>
    protected virtual IReadOnlyDictionary<string, string> ApiEnvironment => Shared
        ? new Dictionary<string, string>
        {
            ["Models__Provider"] = "anthropic",
            ["Models__BaseUrl"] = PlatformModel.AnthropicBaseUrl.ToString(),
            ["Models__AnthropicApiKey"] = PlatformAnthropicKey,
            ["Models__OpenAiApiKey"] = "platform-openai-key",
            ["Computers__DockerEndpoint"] = Engine.Endpoint,
        }
        : new Dictionary<string, string>();

    /// <summary>
    /// <c>Raworc:DataVolume</c> of the AppHost: empty (the default here) runs Postgres without a volume, so no test run
    /// sees another's data; a subclass that restarts the system names a volume of its own and removes it.
    /// </summary>
    protected virtual string DataVolume => "";

    public virtual async Task InitializeAsync()
    {
        if (Shared)
        {
            _platformModel = await StandInModelServer.StartAsync();
            _engine = EngineProxy.Start();
        }
        await BeforeStartAsync();
        await StartAppAsync();
    }

    /// <summary>Builds and starts the AppHost and waits until the API is healthy.</summary>
    protected async Task StartAppAsync()
    {
        using var cts = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Raworc_AppHost>(
            [
                $"--Parameters:{ResourceNames.AdminPassword}={AdminPassword}",
                $"--Parameters:{ResourceNames.JwtSigningKey}={JwtSigningKey}",
                $"--Raworc:OfflineImages={Environment.GetEnvironmentVariable("Raworc__OfflineImages") ?? "false"}",
                $"--Raworc:Computers={(Computers ? "true" : "false")}",
                // A free port, not the contract's 9000: a development run or another test run may hold that one.
                $"--Raworc:ApiPort={FreePort()}",
                $"--Raworc:DataVolume={DataVolume}",
                // The testing builder makes a stop wait until the orchestrator has removed every resource (8–15 s a
                // system on the 2-core machine). A system without a data volume leaves nothing that the next one could
                // meet, so its stop returns at once and the removal goes on beside the next system's start. A system with
                // computers first stops its API and waits for the process's end (StopsApiFirst): its fixture removes what
                // the API left only once that API is gone (else the API, still running, made or removed the same
                // containers, and the clean-up failed). A system on a data volume, or whose API cannot be stopped by one
                // command, still waits, so its next Postgres never meets the old one on the same files.
                $"--DcpPublisher:WaitForResourceCleanup={(WaitsForCleanup ? "true" : "false")}",
                .. ExtraArguments,
            ],
            cts.Token);

        builder.Services.AddLogging(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Warning);
            // RAWORC_TEST_LOGS=1 prints the resources' warnings and errors (a resource that fails to start says why).
            if (Environment.GetEnvironmentVariable("RAWORC_TEST_LOGS") == "1")
            {
                logging.AddSimpleConsole();
            }
        });
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            // No dashboard listens in tests; the OTLP exporter would delay every shutdown by ~10 s.
            project.Annotations.Add(new EnvironmentCallbackAnnotation(context =>
            {
                context.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
                // Every test logs in from one address, some with wrong passwords on purpose: the login limits would refuse
                // the rest of a run. RateLimitAppFixture sets them again.
                context.EnvironmentVariables["RateLimits__LoginFailuresPerName"] = "0";
                context.EnvironmentVariables["RateLimits__LoginFailuresPerAddress"] = "0";
                // Old state changes are pruned every second instead of every ten minutes, so a test sees it happen.
                context.EnvironmentVariables["Events__PruneIntervalSeconds"] = "1";
                foreach (var (name, value) in ApiEnvironment)
                {
                    context.EnvironmentVariables[name] = value;
                }
            }));
        }

        _app = await builder.BuildAsync(cts.Token);
        await _app.StartAsync(cts.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.Api, cts.Token);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public virtual async Task DisposeAsync()
    {
        await StopAppAsync();
        if (_platformModel is not null)
        {
            await _platformModel.DisposeAsync();
        }
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }

    /// <summary>
    /// Whether a stop first stops the API resource alone and waits until its process has ended, so that the rest of the
    /// system (Postgres, Redis) is removed beside the next system's start: a system with computers on no data volume. A
    /// system whose API runs as several replicas returns false (one command does not name them all).
    /// </summary>
    protected virtual bool StopsApiFirst => Computers && DataVolume.Length == 0;

    // Whether a stop waits until the orchestrator has removed every resource (see StartAppAsync).
    private bool WaitsForCleanup => (Computers || DataVolume.Length > 0) && !StopsApiFirst;

    /// <summary>Stops the whole AppHost (Postgres, Redis and the API); session computers are the API's and stay.</summary>
    protected async Task StopAppAsync()
    {
        if (_app is not null)
        {
            // Three minutes: one minute ran out for the Swarm warm pool's system in a CI run of three lanes at load ~17 (an
            // OperationCanceledException as the collection's clean-up failure); the API alone may take its 30 s of graceful
            // shutdown, and the orchestrator's container stops queue behind every other lane's.
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            if (StopsApiFirst)
            {
                // A test may have stopped it already; the wait then holds at once.
                await _app.ResourceCommands.ExecuteCommandAsync(ResourceNames.Api, KnownResourceCommands.StopCommand, cts.Token);
                await _app.ResourceNotifications.WaitForResourceAsync(ResourceNames.Api,
                    e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), cts.Token);
            }
            await _app.StopAsync(cts.Token);
            await _app.DisposeAsync();
            _app = null;
        }
    }
}

/// <summary>Every test that needs the running API-only system and no settings of its own shares one started AppHost.</summary>
[CollectionDefinition(Name)]
public sealed class RaworcAppCollection : ICollectionFixture<RaworcAppFixture>
{
    public const string Name = "Raworc app";
}
