using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Raworc.AppHost.SessionComputers;

/// <summary>Shows the API's session computers in the dashboard (README "Session computers in the dashboard").</summary>
internal static class SessionComputersExtensions
{
    /// <summary>
    /// In run mode, watches the Docker engine <paramref name="api"/> is given (its <c>Computers__DockerEndpoint</c>) for the
    /// containers of the deployment whose database is <paramref name="database"/> and shows each as a child resource of
    /// <paramref name="api"/>: state, image, start time, console output as its logs. Does nothing when publishing a manifest.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSessionComputers(this IResourceBuilder<ProjectResource> api,
        IResourceBuilder<IResourceWithConnectionString> database)
    {
        var builder = api.ApplicationBuilder;
        if (builder.ExecutionContext.IsRunMode)
        {
            builder.Services.AddHostedService(services => new SessionComputerWatcher(
                api.Resource,
                database.Resource,
                builder.ExecutionContext,
                services.GetRequiredService<ResourceNotificationService>(),
                services.GetRequiredService<ResourceLoggerService>(),
                services.GetRequiredService<ILogger<SessionComputerWatcher>>()));
        }
        return api;
    }
}
