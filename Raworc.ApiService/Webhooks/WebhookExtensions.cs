namespace Raworc.ApiService.Webhooks;

/// <summary>Registers webhooks: settings (section <c>Webhooks</c>), secrets, the sender, the queue and the dispatcher.</summary>
public static class WebhookExtensions
{
    /// <summary>Adds the webhook services; Data Protection itself is registered by the sessions (its key ring is shared).</summary>
    public static WebApplicationBuilder AddWebhooks(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<WebhookSecrets>();
        builder.Services.AddSingleton<WebhookSender>();
        builder.Services.AddScoped<WebhookQueue>();
        builder.Services.AddHostedService<WebhookDispatcher>();
        return builder;
    }
}
