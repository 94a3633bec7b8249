using Raworc.ApiService.Auth;
using Raworc.ApiService.Computers;
using Raworc.ApiService.Events;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Models;
using Raworc.ApiService.Operators;
using Raworc.ApiService.Platform;
using Raworc.ApiService.Sessions;
using Raworc.ApiService.Webhooks;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPlatform();
builder.AddRaworcData();
builder.AddRaworcAuth();
builder.AddRaworcRateLimits();
builder.AddOperators();
builder.AddSessions();
builder.AddMessages();
builder.AddEvents();
builder.AddSessionComputers();
builder.AddComputerSocket();
builder.AddModelGateway();
builder.AddWebhooks();

var app = builder.Build();

app.UsePlatform();
app.UseAuthentication();
app.UseComputerSocket();
app.UseRaworcRateLimits();
app.UseAuthorization();
app.MapDefaultEndpoints();
app.MapVersionApi();
app.MapAuthApi();
app.MapOperatorsApi();
app.MapSessionApis();
app.MapMessagesApi();
app.MapEventsApi();
app.MapModelGatewayApi();
app.MapWarmPoolApi();
app.MapBootApi();
app.MapWebhooksApi();

await app.MigrateDatabaseAsync();
app.ListenForComputers();
await app.RunAsync();

/// <summary>The API's entry point; public so tests can name the assembly.</summary>
public partial class Program;
