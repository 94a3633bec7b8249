using Raworc.HostAgent;

var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddHostedService<AgentService>();
await builder.Build().RunAsync();
