using System.Text.Json;

namespace Raworc.ApiService.Computers;

public sealed partial class DockerComputerProvider
{
    /// <summary>The most bytes of the engine's disk-usage answer read; it lists every image, container and volume.</summary>
    private const int MaxDiskUsageBytes = 64 * 1024 * 1024;

    /// <inheritdoc />
    /// <remarks>
    /// Docker.DotNet 3.125 has no call for the engine's <c>GET /system/df</c> (Docker Engine API 1.41, "Get data usage
    /// information"), so it is asked directly over the same endpoint; <c>Volumes[].UsageData.Size</c> is the size in
    /// bytes, -1 when the engine did not compute it (then -1 here too). A volume that is a filesystem of its own
    /// (<see cref="ComputerLabels.FileSystem"/>) is left out: its size cannot pass the limit.
    /// </remarks>
    public Task<IReadOnlyDictionary<Guid, long>> MeasureVolumesAsync(CancellationToken cancellationToken) =>
        MeasureEngineVolumesAsync(options.Value.DockerEndpoint, options.Value.Deployment, cancellationToken);

    /// <summary>What <see cref="MeasureVolumesAsync"/> does, for the engine at <paramref name="endpoint"/> (the Swarm provider's nodes too).</summary>
    internal static async Task<IReadOnlyDictionary<Guid, long>> MeasureEngineVolumesAsync(string endpoint, string deployment, CancellationToken cancellationToken)
    {
        using var http = EngineHttpClient(endpoint);
        using var response = await http.GetAsync("/v1.41/system/df", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var bounded = new MemoryStream();
        var buffer = new byte[81920];
        for (int read; (read = await body.ReadAsync(buffer, cancellationToken)) > 0;)
        {
            if (bounded.Length + read > MaxDiskUsageBytes)
            {
                throw new InvalidOperationException("The engine's disk-usage answer is larger than expected.");
            }
            bounded.Write(buffer, 0, read);
        }
        bounded.Position = 0;
        using var document = await JsonDocument.ParseAsync(bounded, cancellationToken: cancellationToken);

        var sizes = new Dictionary<Guid, long>();
        if (!document.RootElement.TryGetProperty("Volumes", out var volumes) || volumes.ValueKind != JsonValueKind.Array)
        {
            return sizes;
        }
        foreach (var volume in volumes.EnumerateArray())
        {
            if (volume.TryGetProperty("Labels", out var labels) && labels.ValueKind == JsonValueKind.Object
                && labels.TryGetProperty(SessionLabel, out var session) && Guid.TryParse(session.GetString(), out var sessionId)
                && (deployment.Length == 0 || (labels.TryGetProperty(DeploymentLabel, out var owner) && owner.GetString() == deployment))
                // A filesystem of its own holds its size (and the engine reports -1 for a volume with mount options).
                && !labels.TryGetProperty(ComputerLabels.FileSystem, out _)
                && volume.TryGetProperty("UsageData", out var usage) && usage.ValueKind == JsonValueKind.Object
                && usage.TryGetProperty("Size", out var size) && size.TryGetInt64(out var bytes))
            {
                // -1: the engine's walk of the volume failed, e.g. on a path longer than PATH_MAX (the session's code can do that).
                sizes[sessionId] = Math.Max(bytes, -1);
            }
        }
        return sizes;
    }

    /// <summary>An HttpClient that talks to the engine at <paramref name="endpoint"/> (unix socket or TCP).</summary>
    private static HttpClient EngineHttpClient(string endpoint)
    {
        var uri = new Uri(endpoint);
        if (uri.Scheme != "unix")
        {
            var scheme = uri.Scheme == "https" ? "https" : "http";
            return new HttpClient { BaseAddress = new Uri($"{scheme}://{uri.Authority}"), Timeout = TimeSpan.FromMinutes(2) };
        }
        var handler = new SocketsHttpHandler { ConnectCallback = UnixSocketConnector.To(uri.LocalPath) };
        return new HttpClient(handler) { BaseAddress = new Uri("http://docker"), Timeout = TimeSpan.FromMinutes(2) };
    }
}
