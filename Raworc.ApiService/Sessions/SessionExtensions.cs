using Microsoft.AspNetCore.DataProtection;
using Raworc.ApiService.Messages;
using Raworc.ApiService.Redis;
using Raworc.ApiService.Work;

namespace Raworc.ApiService.Sessions;

/// <summary>Registers sessions, messages, presence and the work queue.</summary>
public static class SessionExtensions
{
    /// <summary>
    /// Registers Data Protection (keys in Postgres, shared by replicas), the session settings (section <c>Sessions</c>,
    /// validated at start-up), the quotas, the state machine, the work queue, the Redis adapter, the idle and turn sweepers.
    /// </summary>
    public static WebApplicationBuilder AddSessions(this WebApplicationBuilder builder)
    {
        builder.Services.AddDataProtection().SetApplicationName("raworc").PersistKeysToDbContext<RaworcDbContext>();
        builder.Services.AddSingleton<SessionSecrets>();
        builder.Services.AddSingleton<RedisStore>();
        builder.Services.AddHostedService<IdleSweeper>();
        builder.Services.AddHostedService<TurnSweeper>();
        builder.Services.AddOptions<SessionOptions>().BindConfiguration(SessionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddScoped<SessionQuotas>();
        builder.Services.AddScoped<SessionTransitions>();
        builder.Services.AddScoped<WorkQueue>();
        return builder;
    }

    /// <summary>Maps sessions, their actions and published sessions (messages: <see cref="MessagesApi"/>).</summary>
    public static IEndpointRouteBuilder MapSessionApis(this IEndpointRouteBuilder routes) => routes
        .MapSessionsApi()
        .MapSessionActionsApi()
        .MapPublishedApi()
        .MapScreenshotApi();
}
