using System.Net.Http.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Raworc.ApiService.Computers;
using Raworc.ApiService.Computers.Swarm;
using Raworc.Tests.Computers;

namespace Raworc.Tests.Infrastructure;

/// <summary>A session's container as its engine reports it, with that engine (the main one, or a cluster node's).</summary>
/// <param name="Engine">The engine that runs (or ran) the container: exec, kill and archive calls go there.</param>
/// <param name="Container">The engine's inspection of it.</param>
public sealed record SessionContainer(DockerClient Engine, ContainerInspectResponse Container);

// The provider switch (TestProvider) and what the tests reach through it, for either provider.
public partial class ComputersAppFixture
{
    /// <summary>Swarm's label on a task's container: the service it belongs to (<c>raworc-session-&lt;id&gt;</c> here).</summary>
    private const string ServiceNameLabel = "com.docker.swarm.service.name";

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DockerClient> _engines = new(StringComparer.Ordinal);
    private DockerClient? _manager;
    private Dictionary<string, string> _cluster = [];
    private Task? _desktopCopy;

    /// <summary>
    /// Whether this system runs its computers on the Swarm test cluster (<c>Computers:Provider=swarm</c>):
    /// <see cref="TestProvider.IsSwarm"/>, and always for <see cref="SwarmAppFixture"/>.
    /// </summary>
    public virtual bool OnSwarm => TestProvider.IsSwarm;

    /// <summary>The Swarm manager (node 1 of the test cluster); only on Swarm.</summary>
    public DockerClient Manager => _manager ??= new DockerClientConfiguration(new Uri(SwarmAppFixture.ManagerEndpoint)).CreateClient();

    /// <summary>
    /// The address computers on the cluster are given (<c>Computers:ApiUrl</c> from <c>eng/swarm-cluster.sh env</c>): this
    /// machine on the nodes' network at the API's computer port, as for nodes on other machines.
    /// </summary>
    public string ComputerApiUrl => _cluster["Computers__ApiUrl"];

    /// <summary>
    /// The API's computer port (<c>Computers:ComputerPort</c> from <c>eng/swarm-cluster.sh env</c>), at which computers on
    /// the cluster reach it; 0 on Docker (computers use the socket).
    /// </summary>
    public int ComputerPort => OnSwarm ? int.Parse(_cluster["Computers__ComputerPort"], System.Globalization.CultureInfo.InvariantCulture) : 0;

    /// <summary>What <c>eng/swarm-cluster.sh env</c> says to give the API (provider, manager, computer address); empty on Docker.</summary>
    private IReadOnlyDictionary<string, string> ProviderEnvironment => !OnSwarm ? new Dictionary<string, string>() : new Dictionary<string, string>
    {
        ["Computers__Provider"] = ComputerProviders.Swarm,
        ["Computers__DockerEndpoint"] = SwarmAppFixture.ManagerEndpoint,
        ["Computers__ApiUrl"] = ComputerApiUrl,
        ["Computers__ComputerPort"] = _cluster["Computers__ComputerPort"],
    };

    /// <summary>
    /// Brings the test cluster up and copies the test image to both nodes; reads its settings. The desktop image is not
    /// copied here (<see cref="PublishDesktopImageAsync"/>).
    /// </summary>
    private async Task StartClusterAsync()
    {
        if (SwarmCluster.CannotRunReason is { } reason)
        {
            throw new InvalidOperationException($"RAWORC_TEST_PROVIDER=swarm, but {reason}.");
        }
        await UpAsync(Image);
        var (_, variables) = await SwarmCluster.RunAsync("env");
        _cluster = variables.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
    }

    /// <summary>Runs <c>eng/swarm-cluster.sh up</c> with these images (each copied to the nodes whose copy differs).</summary>
    /// <exception cref="InvalidOperationException">The script failed; its output is in the message.</exception>
    private static async Task UpAsync(params string[] images)
    {
        var (code, output) = await SwarmCluster.RunAsync(["up", .. images]);
        if (code != 0)
        {
            throw new InvalidOperationException($"eng/swarm-cluster.sh up failed ({code}): {output}");
        }
    }

    /// <summary>
    /// Makes <see cref="DesktopImage"/> available to desktop computers: on Swarm, copies it to the nodes whose copy differs,
    /// once per system, when the first test that starts a desktop computer asks (its 1.6 GB then are not copied during the
    /// start-up of every system, most of whose tests start none; a copy took over 5 minutes at a load average of ~45); on
    /// Docker nothing (the API reads the main engine's). A failed copy fails every later call too.
    /// </summary>
    public Task PublishDesktopImageAsync()
    {
        if (!OnSwarm)
        {
            return Task.CompletedTask;
        }
        lock (_engines)
        {
            return _desktopCopy ??= UpAsync(DesktopImage);
        }
    }

    /// <summary>
    /// The engines computers run on: the main engine on Docker; on Swarm each ready node's (from its <c>raworc.engine</c>
    /// label), one client per engine, kept.
    /// </summary>
    public async Task<IReadOnlyList<DockerClient>> EnginesAsync()
    {
        if (!OnSwarm)
        {
            return [Docker];
        }
        var engines = new List<DockerClient>();
        foreach (var node in await Manager.Swarm.ListNodesAsync())
        {
            if (node.Status.State == "ready" && node.Spec.Labels.TryGetValue(SwarmNodes.EngineLabel, out var endpoint))
            {
                engines.Add(EngineAt(endpoint));
            }
        }
        return engines;
    }

    private DockerClient EngineAt(string endpoint) =>
        _engines.GetOrAdd(endpoint, address => new DockerClientConfiguration(new Uri(address)).CreateClient());

    /// <summary>The engine of the node with this Swarm id (from its <c>raworc.engine</c> label).</summary>
    public async Task<DockerClient> NodeEngineAsync(string nodeId)
    {
        var node = await Manager.Swarm.InspectNodeAsync(nodeId);
        return EngineAt(node.Spec.Labels[SwarmNodes.EngineLabel]);
    }

    /// <summary>
    /// The session's container on its engine, or null when there is none: on Docker the container named
    /// <c>raworc-session-&lt;id&gt;</c>; on Swarm the container of the session's service (Swarm's label
    /// <c>com.docker.swarm.service.name</c>) on whichever node holds it, the running one first, else the newest. A container
    /// that exited but is not removed yet is returned on both.
    /// </summary>
    public async Task<SessionContainer?> ContainerAsync(Guid sessionId)
    {
        var name = DockerComputerProvider.NameOf(sessionId);
        if (!OnSwarm)
        {
            try
            {
                return new(Docker, await Docker.Containers.InspectContainerAsync(name));
            }
            catch (DockerContainerNotFoundException)
            {
                return null;
            }
        }
        var found = new List<(DockerClient Engine, ContainerListResponse Container)>();
        foreach (var engine in await EnginesAsync())
        {
            var containers = await engine.Containers.ListContainersAsync(new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{ServiceNameLabel}={name}"] = true } },
            });
            found.AddRange(containers.Select(container => (engine, container)));
        }
        foreach (var (engine, container) in found.OrderByDescending(pair => pair.Container.State == "running").ThenByDescending(pair => pair.Container.Created))
        {
            try
            {
                return new(engine, await engine.Containers.InspectContainerAsync(container.ID));
            }
            catch (DockerContainerNotFoundException)
            {
                // Removed between the list and the inspection: the next one, if any.
            }
        }
        return null;
    }

    /// <summary>The session's container on its engine; throws when it has none.</summary>
    public async Task<SessionContainer> RequireContainerAsync(Guid sessionId) =>
        await ContainerAsync(sessionId) ?? throw new InvalidOperationException($"Session {sessionId} has no container.");

    /// <summary>
    /// The computers of <paramref name="deployment"/> running now on any engine (with <paramref name="all"/>, also those
    /// that exited and are not removed yet), not its helper containers, by name (<c>raworc-session-&lt;id&gt;</c>: on Docker the container's name, on
    /// Swarm its service's).
    /// </summary>
    public async Task<List<string>> RunningComputersAsync(string deployment, bool all = false)
    {
        var names = new List<string>();
        foreach (var engine in await EnginesAsync())
        {
            var filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{ComputerLabels.Deployment}={deployment}"] = true },
            };
            if (!all)
            {
                filters["status"] = new Dictionary<string, bool> { ["running"] = true };
            }
            var running = await engine.Containers.ListContainersAsync(new ContainersListParameters { All = all, Filters = filters });
            // A helper container (a remix copy, a volume count: label raworc.role) carries the deployment's label too but is no
            // computer; the warm-pool capacity test once counted the volume count's helper running beside the computers.
            names.AddRange(running.Where(container => !container.Labels.ContainsKey(ComputerLabels.Role))
                .Select(container => OnSwarm ? container.Labels[ServiceNameLabel] : container.Names.Single().TrimStart('/')));
        }
        return names;
    }

    /// <summary>The session's container as its engine reports it; throws when it has none.</summary>
    public async Task<ContainerInspectResponse> InspectContainerAsync(Guid sessionId) => (await RequireContainerAsync(sessionId)).Container;

    /// <summary>
    /// The engine that holds the session's volume (on Swarm, the node the service is pinned to), or null when none does.
    /// </summary>
    public async Task<DockerClient?> VolumeEngineAsync(Guid sessionId)
    {
        foreach (var engine in await EnginesAsync())
        {
            try
            {
                await engine.Volumes.InspectAsync(DockerComputerProvider.NameOf(sessionId));
                return engine;
            }
            catch (DockerApiException exception) when (exception.StatusCode is System.Net.HttpStatusCode.NotFound)
            {
            }
        }
        return null;
    }

    /// <summary>The session's service as the manager reports it, or null (Swarm only).</summary>
    public async Task<SwarmService?> ServiceAsync(Guid sessionId)
    {
        try
        {
            return await Manager.Swarm.InspectServiceAsync(DockerComputerProvider.NameOf(sessionId));
        }
        catch (DockerApiException exception) when (exception.StatusCode is System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// On Swarm, deletes every session of this system and waits until their services are gone: the one-machine test cluster
    /// has room for eight computers (0.5 CPU each on two nodes of 2 CPUs), and a test must not depend on what the
    /// collection's earlier tests left running (the order of tests is the runner's). Every class of the shared system's
    /// tests calls it before each test (their <c>InitializeAsync</c>): the collection's tests together leave more than eight,
    /// and a later test's computer then found no node with room. On Docker it does nothing (the engine has room).
    /// </summary>
    public async Task MakeRoomAsync()
    {
        if (!OnSwarm)
        {
            return;
        }
        using var admin = await AdminClientAsync();
        var sessions = (await admin.GetFromJsonAsync<System.Text.Json.Nodes.JsonArray>("/api/v0/sessions?limit=1000"))!
            .Select(session => (Guid)session!["id"]!).ToList();
        foreach (var id in sessions)
        {
            using var deleted = await admin.DeleteAsync($"/api/v0/sessions/{id}");
        }
        await WaitUntilServicesRemovedAsync(sessions);
    }

    /// <summary>Waits (up to 120 s) until none of <paramref name="sessions"/> has a service on the cluster any more.</summary>
    public async Task WaitUntilServicesRemovedAsync(IReadOnlyCollection<Guid> sessions)
    {
        await Waits.UntilAsync(async () =>
        {
            foreach (var id in sessions)
            {
                if (await ServiceAsync(id) is not null)
                {
                    return false;
                }
            }
            return true;
        }, "every session's service is removed", TimeSpan.FromSeconds(120));
    }

    /// <summary>Removes what this deployment left on the cluster: its services, then the volumes on every ready node.</summary>
    private async Task CleanClusterAsync(string deployment)
    {
        var owned = $"{ComputerLabels.Deployment}={deployment}";
        foreach (var service in await Manager.Swarm.ListServicesAsync(new ServicesListParameters { Filters = new ServiceFilter { Label = [owned] } }))
        {
            await Manager.Swarm.RemoveServiceAsync(service.ID);
        }
        foreach (var engine in await EnginesAsync())
        {
            var filter = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [owned] = true } };
            // The services' containers go away with them, but asynchronously: a volume still in use is retried briefly.
            await Waits.UntilAsync(async () =>
                (await engine.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = filter })).Count == 0,
                "the removed services' containers are gone", TimeSpan.FromSeconds(30));
            foreach (var volume in (await engine.Volumes.ListAsync(new VolumesListParameters { Filters = filter })).Volumes ?? [])
            {
                await engine.Volumes.RemoveAsync(volume.Name, force: true);
            }
        }
        _manager?.Dispose();
        foreach (var engine in _engines.Values)
        {
            engine.Dispose();
        }
    }
}

/// <summary>
/// Looks at a session's computer and volume for either provider, on whichever engine holds them (<see cref="ComputersAppFixture.ContainerAsync"/>,
/// <see cref="ComputersAppFixture.VolumeEngineAsync"/>); volumes are read through a never-started container of the agent image.
/// </summary>
public sealed class SessionProbe(ComputersAppFixture fixture)
{
    /// <summary>The session's container as its engine reports it, or null when it has none.</summary>
    public async Task<ContainerInspectResponse?> InspectAsync(Guid sessionId) => (await fixture.ContainerAsync(sessionId))?.Container;

    /// <summary>Whether any engine holds the session's volume.</summary>
    public async Task<bool> VolumeExistsAsync(Guid sessionId) => await fixture.VolumeEngineAsync(sessionId) is not null;

    /// <summary>Every entry under the session's volume, keyed by path (as <see cref="DockerProbe.ReadVolumeAsync"/>), on the engine holding it.</summary>
    /// <exception cref="InvalidOperationException">No engine holds the volume.</exception>
    public async Task<Dictionary<string, VolumeEntry>> ReadVolumeAsync(Guid sessionId)
    {
        var engine = await fixture.VolumeEngineAsync(sessionId) ?? throw new InvalidOperationException($"Session {sessionId} has no volume.");
        return await new DockerProbe(engine, ComputersAppFixture.Image).ReadVolumeAsync(sessionId);
    }

    /// <summary>What <see cref="DockerProbe.MakeVolumePlainAsync"/> does, on the engine holding the closed session's volume.</summary>
    public async Task MakeVolumePlainAsync(Guid sessionId)
    {
        var engine = await fixture.VolumeEngineAsync(sessionId) ?? throw new InvalidOperationException($"Session {sessionId} has no volume.");
        await new DockerProbe(engine, ComputersAppFixture.Image).MakeVolumePlainAsync(sessionId);
    }

    /// <summary>Writes one file (owned by uid 1000) into the volume of the session's running computer.</summary>
    public async Task PutFileAsync(Guid sessionId, string path, byte[] content)
    {
        var container = await fixture.RequireContainerAsync(sessionId);
        await new DockerProbe(container.Engine, ComputersAppFixture.Image).PutFileAsync(container.Container.ID, path, content);
    }
}
