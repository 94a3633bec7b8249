using Raworc.HostAgent;

// Before anything reads the Host token: from here on no other process of the computer can read this one's memory.
ProcessProtection.MakeNotDumpable();
var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
builder.AddHostAgent();
await builder.Build().RunAsync();
