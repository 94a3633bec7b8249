namespace Raworc.ApiService.Messages;

/// <summary>Registers the conversation of sessions: the one message path, the long-poll signals and the page settings.</summary>
public static class MessageExtensions
{
    /// <summary>
    /// Registers <see cref="Conversation"/>, <see cref="MessageSignals"/> (also hosted: it holds the Redis subscription that
    /// wakes long-polls on every replica) and <see cref="MessageOptions"/> (section <c>Messages</c>, validated at start-up).
    /// </summary>
    public static WebApplicationBuilder AddMessages(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<Conversation>();
        builder.Services.AddSingleton<MessageSignals>();
        builder.Services.AddHostedService(services => services.GetRequiredService<MessageSignals>());
        builder.Services.AddOptions<MessageOptions>().BindConfiguration(MessageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }
}
