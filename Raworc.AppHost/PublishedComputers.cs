namespace Raworc.AppHost;

/// <summary>
/// The computers of a published deployment (the manifest <c>azd</c> reads). Container Apps offers no Docker engine beside
/// the API, so the engine is a parameter (<see cref="ResourceNames.ComputersEngine"/>: a Swarm manager or an engine on
/// the same virtual network), and computers on its machines reach the API at its computer port
/// (<see cref="ComputerPort"/>, the internal endpoint <c>computers</c>) by the address <see cref="ResourceNames.ComputersApiUrl"/>
/// — never its public HTTP endpoint, which serves every route (README "Security model").
/// </summary>
internal static class PublishedComputers
{
    /// <summary>The API's computer port in a published deployment (<c>Computers:ComputerPort</c>): only the Host's routes answer there.</summary>
    public const int ComputerPort = 7413;

    /// <summary>
    /// Adds the three parameters and the internal <c>computers</c> endpoint (TCP <see cref="ComputerPort"/>, not
    /// external) to <paramref name="api"/>, and points its <c>Computers:*</c> settings at them.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithPublishedComputers(this IResourceBuilder<ProjectResource> api)
    {
        var builder = api.ApplicationBuilder;
        var provider = builder.AddParameter(ResourceNames.ComputersProvider, value: "swarm", publishValueAsDefault: true);
        var engine = builder.AddParameter(ResourceNames.ComputersEngine);
        var apiUrl = builder.AddParameter(ResourceNames.ComputersApiUrl);
        var port = ComputerPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return api
            .WithEnvironment("Computers__Provider", provider)
            .WithEnvironment("Computers__DockerEndpoint", engine)
            .WithEnvironment("Computers__ApiUrl", apiUrl)
            .WithEnvironment("Computers__ComputerPort", port)
            .WithEndpoint("computers", endpoint =>
            {
                endpoint.TargetPort = ComputerPort;
                endpoint.Port = ComputerPort;
                endpoint.UriScheme = "tcp";
                endpoint.Transport = "tcp";
                endpoint.IsExternal = false;
            });
    }
}
