namespace Raworc.ApiService.Events;

/// <summary>Registers the session event streams.</summary>
public static class EventsExtensions
{
    /// <summary>Registers <see cref="EventFeed"/> (shared reads, one per process) and <see cref="EventStream"/>.</summary>
    public static WebApplicationBuilder AddEvents(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<EventFeed>();
        builder.Services.AddSingleton<EventStream>();
        return builder;
    }
}
