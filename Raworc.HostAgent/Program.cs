using Raworc.HostAgent;

// Before anything reads the Host token: from here on no other process of the computer can read this one's memory.
ProcessProtection.MakeNotDumpable();
// No appsettings files (their watcher would sit on the session folder), no telemetry exporters (a computer has no
// collector to reach): the environment and the console are all the agent uses.
// The builder and its logging hold nothing of a session, so a warm-pool computer makes them while it waits for its claim.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, DisableDefaults = true });
builder.Logging.AddSimpleConsole();
// Four lines per API call (the long-poll every 30 s) would bury the agent's own log; failures are still logged.
builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
// A warm-pool computer first waits for the session that claims it; its variables then join this process's environment,
// so the environment is read into the configuration only after the claim.
var handover = await Raworc.HostAgent.Api.PoolClaim.WaitIfPooledAsync(CancellationToken.None);
builder.Configuration.AddEnvironmentVariables();
if (handover is not null)
{
    // The Host token in memory only: the environment would hand it to every process the tools start.
    builder.Configuration.AddInMemoryCollection([
        new(Raworc.HostAgentVariables.HostToken, handover.HostToken),
        new(Raworc.HostAgentVariables.SessionId, handover.SessionId),
    ]);
}
builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
builder.AddHostAgent();
await builder.Build().RunAsync();
