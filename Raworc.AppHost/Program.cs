using Raworc;
using Raworc.AppHost;
using Raworc.AppHost.SessionComputers;

var builder = DistributedApplication.CreateBuilder(args);
AppHostOptions options;
try
{
    options = AppHostOptions.From(builder.Configuration);
}
catch (InvalidOperationException ex)
{
    // A setting that cannot work: its reason alone, not a stack trace.
    Console.Error.WriteLine($"raworc: {ex.Message}");
    Environment.Exit(2);
    return;
}

// persist: generated once and kept in the AppHost's user secrets, so tokens outlive a restart (Aspire keeps the Postgres
// and Redis passwords it generates there too).
var jwtSigningKey = builder.AddParameter(ResourceNames.JwtSigningKey,
    new GenerateParameterDefault { MinLength = 64, Special = false }, secret: true, persist: true);
var adminPassword = builder.AddParameter(ResourceNames.AdminPassword, secret: true);
var anthropicApiKey = builder.AddParameter(ResourceNames.AnthropicApiKey, value: "", secret: true);
var openAiApiKey = builder.AddParameter(ResourceNames.OpenAiApiKey, value: "", secret: true);

var postgres = builder.AddPostgres(ResourceNames.Postgres).WithOfflineImage(options).WithDataVolume(options)
    .WithDirectEndpoint("tcp", builder.ExecutionContext.IsRunMode);
// Room for every replica's pool at once, and some beside (README "Running several API replicas").
var maxConnections = DatabaseLimits.MaxConnections(options.ApiReplicas);
if (maxConnections != DatabaseLimits.PostgresDefaultMaxConnections)
{
    postgres.WithArgs("-c", $"max_connections={maxConnections}");
}
var database = postgres.AddDatabase(ResourceNames.Database);
var redis = builder.AddRedis(ResourceNames.Redis).WithOfflineImage(options)
    .WithDirectEndpoint("tcp", builder.ExecutionContext.IsRunMode);

var api = builder.AddProject<Projects.Raworc_ApiService>(ResourceNames.Api)
    .WithEndpoint("http", endpoint => endpoint.Port = options.ApiPort)
    .WithHttpHealthCheck("/health")
    .WithReference(database).WaitFor(database)
    .WithReference(redis).WaitFor(redis)
    .WithEnvironment("Jwt__SigningKey", jwtSigningKey)
    .WithEnvironment("Bootstrap__AdminPassword", adminPassword)
    .WithEnvironment("Models__AnthropicApiKey", anthropicApiKey)
    .WithEnvironment("Models__OpenAiApiKey", openAiApiKey)
    .WithEnvironment("Computers__Image", options.HostAgentImage)
    .WithEnvironment("Computers__DesktopImage", options.HostAgentDesktopImage)
    .WithEnvironment("Computers__Enabled", options.Computers ? "true" : "false")
    .WithEnvironment("Models__Provider", options.ModelProvider)
    .WithEnvironment("Models__Model", options.Model)
    .WithEnvironment("Models__BaseUrl", options.ModelBaseUrl)
    .WithSessionComputers(database);
// The engine is the AppHost's setting too (environment Computers__DockerEndpoint, user secrets, arguments): the API runs
// the computers there and the dashboard watches the same engine.
if (builder.Configuration[DockerEngineSetting.Key] is { Length: > 0 } engine)
{
    api.WithEnvironment(DockerEngineSetting.Variable, engine);
}
// A published deployment (azd on Container Apps) has no engine beside the API: the computers' engine and the address at
// which its computers reach the API are parameters that azd asks for (README "Deploying to Azure").
if (builder.ExecutionContext.IsPublishMode)
{
    api.WithPublishedComputers();
}
if (options.ApiReplicas > 1)
{
    api.WithReplicas(options.ApiReplicas);
    // Run mode starts every replica on this machine: they listen on the computer port together (SO_REUSEPORT), when one
    // is set. A published deployment's replicas are containers of their own, each with its own port.
    if (!builder.ExecutionContext.IsPublishMode)
    {
        api.WithEnvironment("Computers__ComputerPortShared", "true");
    }
}

builder.Build().Run();
