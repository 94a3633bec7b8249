using Microsoft.Extensions.Configuration;

namespace Raworc.AppHost;

/// <summary>
/// The AppHost's own switches, read from the <c>Raworc</c> configuration section
/// (environment variables <c>Raworc__OfflineImages</c>, <c>Raworc__ApiPort</c>, <c>Raworc__HostAgentImage</c>, …).
/// </summary>
/// <param name="OfflineImages">
/// True on machines with no image registry: Postgres and Redis run from the local images that
/// <c>eng/offline-images.sh</c> builds, and are never pulled.
/// </param>
/// <param name="ApiPort">Host port of the API's HTTP endpoint (the contract fixes 9000).</param>
/// <param name="HostAgentImage">Image the API starts for each session's computer (built by <c>eng/host-agent-image.sh</c>).</param>
/// <param name="Computers">False runs the API without session computers (queued work waits); <c>Raworc__Computers</c>.</param>
/// <param name="ModelProvider">The agents' model provider, <c>anthropic</c> or <c>openai</c> (<c>Raworc__ModelProvider</c>); empty lets each agent choose from the keys it has.</param>
/// <param name="Model">The agents' model name (<c>Raworc__Model</c>); empty for the agent's default.</param>
/// <param name="ModelBaseUrl">Base URL of the model endpoint (<c>Raworc__ModelBaseUrl</c>), e.g. a local Ollama's <c>http://127.0.0.1:11434/v1</c>.</param>
/// <param name="DataVolume">
/// Start of the name of the Docker volume that keeps Postgres's data across runs (<c>Raworc__DataVolume</c>, default
/// <see cref="DefaultDataVolume"/>); the PostgreSQL major version is appended, since one major version cannot read
/// another's files. Empty runs Postgres without a volume: its data goes with its container.
/// </param>
public sealed record AppHostOptions(bool OfflineImages, int ApiPort, string HostAgentImage, bool Computers,
    string ModelProvider, string Model, string ModelBaseUrl, string DataVolume)
{
    /// <summary>Reads the options, with the contract's defaults for anything unset.</summary>
    /// <exception cref="InvalidOperationException">
    /// <c>Raworc__ApiPort</c> is not a port (1–65535), or is a port the AppHost's own dashboard listens on (its OTLP or
    /// resource service endpoint, from <c>launchSettings.json</c> or the environment): the API would never come up, and
    /// its health check would only say "HTTP/1.x request sent to an HTTP/2 only endpoint".
    /// </exception>
    public static AppHostOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Raworc");
        var apiPort = section.GetValue("ApiPort", 9000);
        if (apiPort is < 1 or > 65535)
        {
            throw new InvalidOperationException($"Raworc__ApiPort must be a port between 1 and 65535, not {apiPort}.");
        }
        foreach (var name in DashboardEndpointVariables)
        {
            if (Uri.TryCreate(configuration[name], UriKind.Absolute, out var taken) && taken.Port == apiPort)
            {
                throw new InvalidOperationException(
                    $"Raworc__ApiPort {apiPort} is the port of the AppHost's dashboard ({name} = {taken}); choose another port.");
            }
        }
        return new AppHostOptions(
            section.GetValue<bool>("OfflineImages"),
            apiPort,
            section["HostAgentImage"] is { Length: > 0 } image ? image : "raworc/host-agent:latest",
            section.GetValue("Computers", true),
            section["ModelProvider"] ?? "",
            section["Model"] ?? "",
            section["ModelBaseUrl"] ?? "",
            section["DataVolume"] ?? DefaultDataVolume)
        {
            HostAgentDesktopImage = section["HostAgentDesktopImage"] is { Length: > 0 } desktop ? desktop : "raworc/host-agent-desktop:latest",
            ApiReplicas = section.GetValue("ApiReplicas", 1),
        };
    }

    /// <summary>
    /// Image the API starts for sessions with a desktop (<c>Raworc__HostAgentDesktopImage</c>, default
    /// <c>raworc/host-agent-desktop:latest</c>, built by <c>eng/host-agent-desktop-image.sh</c>).
    /// </summary>
    public string HostAgentDesktopImage { get; init; } = "raworc/host-agent-desktop:latest";

    /// <summary>
    /// How many processes of the API run side by side (<c>Raworc__ApiReplicas</c>, default 1), behind one port that
    /// Aspire's proxy spreads over them (<c>WithReplicas</c>). README "Running several API replicas".
    /// </summary>
    public int ApiReplicas { get; init; } = 1;

    /// <summary>The settings that give the ports of the AppHost's own dashboard (Aspire's names; <c>launchSettings.json</c> sets the first and the last).</summary>
    private static readonly string[] DashboardEndpointVariables =
        ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL", "ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL", "ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"];

    /// <summary>The data volume's name without its version suffix when <c>Raworc__DataVolume</c> is unset.</summary>
    public const string DefaultDataVolume = "raworc-postgres-data";
}
