using System.Diagnostics;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Options;

namespace Raworc.ApiService.Computers;

/// <summary>
/// The computers' Docker network (<see cref="ComputerOptions.Network"/>): a bridge on which inter-container traffic
/// is off (<c>com.docker.network.bridge.enable_icc=false</c>), so no computer reaches another, and its Linux bridge
/// has a fixed name (<see cref="ComputerOptions.BridgeName"/>) for two host firewall rules, applied with
/// <c>iptables</c> when the engine is local and the API may (root, <see cref="ComputerOptions.ManageFirewall"/>):
/// <list type="bullet">
/// <item><c>INPUT -i &lt;bridge&gt; -j DROP</c>: nothing a computer sends reaches the host itself (services bound on
/// any address, the bridge's gateway, Docker's published ports of other containers on the host's addresses).</item>
/// <item><c>DOCKER-USER -i &lt;bridge&gt; -d 169.254.0.0/16 -j DROP</c>: no link-local target, so no cloud metadata
/// service (169.254.169.254).</item>
/// </list>
/// Both are checked with <c>iptables -C</c> before being inserted, so repeating this is harmless. Made once per
/// process, on the first computer create; with <see cref="ComputerEgress.None"/> computers use no network at all.
/// </summary>
public sealed partial class ComputerNetwork(IDockerClient docker, IOptions<ComputerOptions> options, ILogger<ComputerNetwork> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _ready;

    /// <summary>Makes sure the network (and, where possible, the firewall rules) exist.</summary>
    /// <exception cref="DockerApiException">The engine refused to create the network.</exception>
    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (_ready || settings.Egress == ComputerEgress.None)
        {
            return;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_ready)
            {
                return;
            }
            var existing = await docker.Networks.ListNetworksAsync(new NetworksListParameters
            {
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["name"] = new Dictionary<string, bool> { [settings.Network] = true } },
            }, cancellationToken);
            // The name filter matches substrings; only an exact name counts.
            if (!existing.Any(n => n.Name == settings.Network))
            {
                await CreateAsync(settings, cancellationToken);
            }
            if (settings.ManageFirewall)
            {
                await ApplyFirewallAsync(settings.BridgeName, cancellationToken);
            }
            _ready = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task CreateAsync(ComputerOptions settings, CancellationToken cancellationToken)
    {
        try
        {
            await docker.Networks.CreateNetworkAsync(new NetworksCreateParameters
            {
                Name = settings.Network,
                Driver = "bridge",
                CheckDuplicate = true,
                Labels = new Dictionary<string, string> { [DockerComputerProvider.ManagedLabel] = "true" },
                Options = new Dictionary<string, string>
                {
                    ["com.docker.network.bridge.enable_icc"] = "false",
                    ["com.docker.network.bridge.name"] = settings.BridgeName,
                },
            }, cancellationToken);
            LogNetworkCreated(settings.Network, settings.BridgeName);
        }
        catch (DockerApiException exception) when (exception.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            // Another replica made it first.
        }
    }

    /// <summary>The rules as iptables arguments: chain, then the match and target.</summary>
    internal static IReadOnlyList<string[]> FirewallRules(string bridge) =>
    [
        ["INPUT", "-i", bridge, "-j", "DROP"],
        ["DOCKER-USER", "-i", bridge, "-d", "169.254.0.0/16", "-j", "DROP"],
    ];

    private async Task ApplyFirewallAsync(string bridge, CancellationToken cancellationToken)
    {
        var endpoint = options.Value.DockerEndpoint;
        if (!OperatingSystem.IsLinux() || !endpoint.StartsWith("unix:", StringComparison.Ordinal) || Environment.UserName != "root")
        {
            LogFirewallSkipped(bridge, "the API is not root on the engine's Linux host");
            return;
        }
        foreach (var rule in FirewallRules(bridge))
        {
            string[] check = ["-C", .. rule];
            if (await IptablesAsync(check, cancellationToken) == 0)
            {
                continue;
            }
            string[] insert = ["-I", .. rule];
            if (await IptablesAsync(insert, cancellationToken) is var code and not 0)
            {
                LogFirewallSkipped(bridge, $"iptables {string.Join(' ', insert)} exited with {code}");
            }
        }
    }

    private static async Task<int> IptablesAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("iptables") { RedirectStandardError = true, RedirectStandardOutput = true };
        // -w waits for the xtables lock instead of failing while dockerd holds it.
        start.ArgumentList.Add("-w");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        try
        {
            using var process = Process.Start(start)!;
            await process.WaitForExitAsync(cancellationToken);
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 127;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the computers' network {Network} (bridge {Bridge}, inter-container traffic off)")]
    private partial void LogNetworkCreated(string network, string bridge);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Computers on bridge {Bridge} are not kept off the host and link-local addresses: {Reason}. Apply the rules of README's Security model by hand.")]
    private partial void LogFirewallSkipped(string bridge, string reason);
}
