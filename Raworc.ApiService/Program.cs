using Raworc.ApiService.Data;
using Raworc.ApiService.Platform;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPlatform();
builder.AddRaworcData();

var app = builder.Build();

app.UsePlatform();
app.MapDefaultEndpoints();
app.MapVersionApi();

await app.MigrateDatabaseAsync();
await app.RunAsync();

/// <summary>The API's entry point; public so tests can name the assembly.</summary>
public partial class Program;
