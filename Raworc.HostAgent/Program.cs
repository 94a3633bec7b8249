using Raworc.HostAgent;

var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
builder.AddHostAgent();
await builder.Build().RunAsync();
