namespace Raworc.ApiService.Events;

/// <summary>Registers the session event streams.</summary>
public static class EventsExtensions
{
    /// <summary>
    /// Registers <see cref="EventFeed"/> (shared reads, one per process), <see cref="EventStream"/> and the pruning of old
    /// state changes (<see cref="StateChangePruner"/>, settings <see cref="EventOptions"/>).
    /// </summary>
    public static WebApplicationBuilder AddEvents(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<EventOptions>().BindConfiguration(EventOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<EventFeed>();
        builder.Services.AddSingleton<EventStream>();
        builder.Services.AddHostedService<StateChangePruner>();
        return builder;
    }
}
