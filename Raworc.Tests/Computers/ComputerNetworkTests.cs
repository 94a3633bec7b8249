using System.Net;
using System.Net.Sockets;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Computers;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Computers;

/// <summary>
/// The computers' bridge as <see cref="ComputerNetwork"/> sets it up on this machine's engine, attacked from a network
/// namespace on it with packets no ordinary socket sends. Not in the computers' lane: it starts no system and no
/// computer, only a network of its own and one plain container on it.
/// </summary>
[OnlyProvider("docker", "the bridge is the main engine's, on this machine; a Swarm node's bridge is its operator's")]
public sealed class ComputerNetworkTests
{
    /// <summary>Exit status of <c>timeout</c> when the command ran out of time (the packets went nowhere).</summary>
    private const int TimedOut = 124;

    /// <summary>
    /// An engine without its userland proxy (<c>eng/docker-engine.sh</c>'s) turns <c>route_localnet</c> on for every
    /// bridge, when it makes the network and at each of its starts; on the computers' bridge that lets a neighbour that
    /// writes its own packets reach a service the host binds on 127.0.0.1 only (CVE-2020-8558's class). Code in a computer
    /// sends such packets as any user (a socket bound to its interface, <c>SO_BINDTODEVICE</c>), but its kernel drops the
    /// replies from 127.0.0.1; the neighbour here is a container on the bridge whose network namespace the test enters as
    /// root and rewires so that a whole connection shows: its own loopback routes gone, 127.0.0.1 routed through the
    /// bridge's gateway, replies from a loopback address accepted. The firewall
    /// is off (<see cref="ComputerOptions.ManageFirewall"/>), whose <c>INPUT</c> rule would drop the packets too, so the
    /// bridge's own setting is what is tried; the attempt first succeeds with the setting on, as the engine leaves it.
    /// </summary>
    [Fact]
    public async Task TheComputersBridgeDoesNotLetAComputerReachTheHostsLoopbackAddress()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var settings = new ComputerOptions { Network = $"raworc-loopback-{suffix}", BridgeName = $"rwl{suffix}", ManageFirewall = false };
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        var network = new ComputerNetwork(docker, Options.Create(settings), NullLogger<ComputerNetwork>.Instance);
        var setting = ComputerNetwork.RouteLocalnetPath(settings.BridgeName);
        // A service of the host that listens on its loopback address only; the kernel completes a connection to it unaccepted.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var connect = $"timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{((IPEndPoint)listener.LocalEndpoint).Port}'";
        string? neighbour = null;
        try
        {
            await network.EnsureAsync(CancellationToken.None);
            Assert.Equal("0\n", await File.ReadAllTextAsync(setting));
            neighbour = (await docker.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Image = settings.Image,
                Entrypoint = ["sleep", "infinity"],
                Labels = new Dictionary<string, string> { [DockerComputerProvider.ManagedLabel] = "true" },
                HostConfig = new HostConfig { NetworkMode = settings.Network, Runtime = "runc" },
            })).ID;
            await docker.Containers.StartContainerAsync(neighbour, new ContainerStartParameters());
            var container = await docker.Containers.InspectContainerAsync(neighbour);
            var gateway = container.NetworkSettings.Networks[settings.Network].Gateway;
            Assert.Equal(0, await InNamespaceAsync(container.State.Pid,
                "echo 1 > /proc/sys/net/ipv4/conf/eth0/route_localnet && echo 1 > /proc/sys/net/ipv4/conf/eth0/accept_local"
                + " && ip route del local 127.0.0.0/8 dev lo table local && ip route del local 127.0.0.1 dev lo table local"
                + $" && ip route add 127.0.0.1/32 via {gateway} dev eth0"));
            await File.WriteAllTextAsync(setting, "1");
            Assert.Equal(0, await InNamespaceAsync(container.State.Pid, connect));

            // What the next computer's create does.
            await network.EnsureAsync(CancellationToken.None);

            Assert.Equal("0\n", await File.ReadAllTextAsync(setting));
            Assert.Equal(TimedOut, await InNamespaceAsync(container.State.Pid, connect));
        }
        finally
        {
            if (neighbour is not null)
            {
                await docker.Containers.RemoveContainerAsync(neighbour, new ContainerRemoveParameters { Force = true });
            }
            await docker.Networks.DeleteNetworkAsync(settings.Network);
        }
    }

    /// <summary>Runs <paramref name="script"/> with the host's bash and tools in the network namespace of process <paramref name="pid"/>; its exit status.</summary>
    private static async Task<int> InNamespaceAsync(long pid, string script)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(
            "nsenter", ["-t", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "-n", "bash", "-c", script])
        {
            RedirectStandardError = true,
        })!;
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode is 0 or TimedOut ? process.ExitCode : throw new InvalidOperationException($"`{script}` exited with {process.ExitCode}: {errors}");
    }
}
