using Raworc.ApiService.Models;
using Docker.DotNet;
using Microsoft.Extensions.Options;

namespace Raworc.ApiService.Computers;

/// <summary>Registers sessions' computers.</summary>
public static class ComputerExtensions
{
    /// <summary>Name of the health check that reports the Docker engine (part of <c>/health</c>).</summary>
    public const string HealthCheckName = "docker";

    /// <summary>
    /// Registers <see cref="AddComputers{TBuilder}"/> plus what turns sessions' work into computers: model settings
    /// for agents, the session worker, the reconciler and the warm pool.
    /// </summary>
    /// <param name="builder">The API's builder.</param>
    /// <returns>The same builder.</returns>
    public static TBuilder AddSessionComputers<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.AddComputers();
        builder.Services.AddSingleton<DeploymentIdentity>();
        builder.Services.AddOptions<ComputerOptions>().PostConfigure<DeploymentIdentity>((computers, identity) =>
        {
            if (computers.Deployment.Length == 0)
            {
                computers.Deployment = identity.Id;
            }
        });
        builder.Services.AddOptions<PlatformModelOptions>().BindConfiguration(PlatformModelOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddScoped<Work.ComputerWork>();
        builder.Services.AddScoped<SetupReport>();
        builder.Services.AddScoped<VolumeLimit>();
        builder.Services.AddScoped<NetworkUseLimit>();
        builder.Services.AddHostedService<Work.SessionWorker>();
        builder.Services.AddHostedService<Work.ComputerReconciler>();
        builder.Services.AddSingleton<WarmPool>();
        builder.Services.AddSingleton<WarmPoolHandoffs>();
        builder.Services.AddHostedService(services => services.GetRequiredService<WarmPool>());
        if (builder.Configuration.GetValue($"{ComputerOptions.Section}:{nameof(ComputerOptions.Provider)}", ComputerProviders.Docker) == ComputerProviders.Swarm)
        {
            builder.Services.AddHostedService<Swarm.SwarmNodeWatch>();
        }
        return builder;
    }

    /// <summary>
    /// Registers <see cref="ComputerOptions"/> (section <c>Computers</c>, validated at start-up), one
    /// <see cref="IDockerClient"/> for <see cref="ComputerOptions.DockerEndpoint"/> (its calls traced, see <see cref="DockerTracing"/>), the
    /// <see cref="IComputerProvider"/> on Docker, and the health check <c>docker</c> (unless
    /// <c>Computers:Enabled</c> is false).
    /// </summary>
    /// <param name="builder">The API's builder.</param>
    /// <returns>The same builder.</returns>
    public static TBuilder AddComputers<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<ComputerOptions>()
            .BindConfiguration(ComputerOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IDockerClient>(services =>
        {
            var endpoint = new Uri(services.GetRequiredService<IOptions<ComputerOptions>>().Value.DockerEndpoint);
            return DockerTracing.CreateClient(endpoint);
        });
        builder.Services.AddSingleton<ComputerNetwork>();
        if (builder.Configuration.GetValue($"{ComputerOptions.Section}:{nameof(ComputerOptions.Provider)}", ComputerProviders.Docker) == ComputerProviders.Swarm)
        {
            builder.Services.AddSingleton<Swarm.SwarmNodes>();
            builder.Services.AddSingleton<Swarm.SwarmComputerProvider>();
            builder.Services.AddSingleton<IComputerProvider>(services => services.GetRequiredService<Swarm.SwarmComputerProvider>());
        }
        else
        {
            builder.Services.AddSingleton<IComputerProvider, DockerComputerProvider>();
        }
        // With computers disabled the engine is not a dependency, so it does not count for readiness.
        if (builder.Configuration.GetValue($"{ComputerOptions.Section}:{nameof(ComputerOptions.Enabled)}", true))
        {
            builder.Services.AddHealthChecks().AddCheck<DockerHealthCheck>(HealthCheckName);
        }
        return builder;
    }
}
