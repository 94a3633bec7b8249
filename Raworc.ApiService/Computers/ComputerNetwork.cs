using System.Diagnostics;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Options;

namespace Raworc.ApiService.Computers;

/// <summary>
/// The computers' Docker network (<see cref="ComputerOptions.Network"/>): a bridge on which inter-container traffic
/// is off (<c>com.docker.network.bridge.enable_icc=false</c>), so no computer reaches another, and its Linux bridge
/// has a fixed name (<see cref="ComputerOptions.BridgeName"/>) for the host firewall rules, applied with
/// <c>iptables</c> when the engine is local and the API may (root, <see cref="ComputerOptions.ManageFirewall"/>):
/// <list type="bullet">
/// <item><c>INPUT -i &lt;bridge&gt; -j DROP</c>: nothing a computer sends reaches the host itself (services bound on
/// any address, the bridge's gateway, Docker's published ports of other containers on the host's addresses).</item>
/// <item><c>DOCKER-USER -i &lt;bridge&gt; -j RAWORC-&lt;bridge&gt;</c>, a chain of Raworc's own that drops what
/// computers send to link-local (169.254.0.0/16: cloud metadata services), private (RFC 1918: 10/8, 172.16/12,
/// 192.168/16) and shared (RFC 6598: 100.64/10) addresses — the host's LAN, a cloud network's databases, bridges Docker
/// does not manage — after letting through DNS (udp and tcp port 53) to the host's resolvers, which Docker's DNS on the
/// network asks from inside the computer's namespace, and <see cref="ComputerOptions.AllowedPrivateNetworks"/>.</item>
/// </list>
/// The first two are checked with <c>iptables -C</c> before being inserted; the chain is written whole by one
/// <c>iptables-restore --noflush</c> (atomic: no moment without it), so repeating this is harmless and a changed
/// setting replaces the old list. Made once per process, on the first computer create; with
/// <see cref="ComputerEgress.None"/> computers use no network at all.
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

    /// <summary>Destinations no computer reaches unless listed in <see cref="ComputerOptions.AllowedPrivateNetworks"/> (link-local never).</summary>
    internal static readonly IReadOnlyList<string> PrivateNetworks =
        ["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];

    /// <summary>Files the host's DNS resolvers are read from: the system's, and systemd-resolved's upstream list that Docker reads when the first names only its local stub.</summary>
    private static readonly string[] ResolverFiles = ["/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"];

    /// <summary>Name of Raworc's chain for <paramref name="bridge"/> (at most 22 characters; iptables allows 28).</summary>
    internal static string ChainName(string bridge) => $"RAWORC-{bridge}";

    /// <summary>The rules checked and inserted one by one, as iptables arguments: chain, then the match and target.</summary>
    internal static IReadOnlyList<string[]> FirewallRules(string bridge) =>
    [
        ["INPUT", "-i", bridge, "-j", "DROP"],
        ["DOCKER-USER", "-i", bridge, "-j", ChainName(bridge)],
    ];

    /// <summary>
    /// The <c>iptables-restore --noflush</c> input that (re)writes Raworc's chain for <paramref name="bridge"/>: DNS to
    /// each of <paramref name="resolvers"/> and everything to <paramref name="allowed"/> return to Docker's rules, then
    /// every <see cref="PrivateNetworks"/> destination is dropped.
    /// </summary>
    internal static string ChainRules(string bridge, IEnumerable<System.Net.IPAddress> resolvers, IEnumerable<string> allowed)
    {
        var chain = ChainName(bridge);
        var rules = new System.Text.StringBuilder($"*filter\n:{chain} - [0:0]\n");
        foreach (var resolver in resolvers)
        {
            rules.Append($"-A {chain} -d {resolver}/32 -p udp -m udp --dport 53 -j RETURN\n");
            rules.Append($"-A {chain} -d {resolver}/32 -p tcp -m tcp --dport 53 -j RETURN\n");
        }
        foreach (var network in allowed)
        {
            rules.Append($"-A {chain} -d {network} -j RETURN\n");
        }
        foreach (var network in PrivateNetworks)
        {
            rules.Append($"-A {chain} -d {network} -j DROP\n");
        }
        return rules.Append("COMMIT\n").ToString();
    }

    /// <summary>
    /// Reads an entry of <see cref="ComputerOptions.AllowedPrivateNetworks"/>: an IPv4 network in CIDR form, not within
    /// 169.254.0.0/16 (metadata services stay out of reach). <paramref name="network"/> is its canonical form
    /// (<c>10.1.2.0/24</c> for <c>10.1.2.7/24</c>).
    /// </summary>
    public static bool TryParseAllowedNetwork(string text, out string network)
    {
        network = "";
        if (!System.Net.IPNetwork.TryParse(text, out var parsed) || parsed.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            // IPNetwork.TryParse refuses a base address with bits set past the prefix; accept those as their network.
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0 || !System.Net.IPAddress.TryParse(text.AsSpan(0, slash), out var address)
                || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
                || !int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length)
                || length > 32)
            {
                return false;
            }
            var bits = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());
            var mask = length == 0 ? 0u : uint.MaxValue << (32 - length);
            var bytes = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, bits & mask);
            parsed = new System.Net.IPNetwork(new System.Net.IPAddress(bytes), length);
        }
        if (System.Net.IPNetwork.Parse("169.254.0.0/16").Contains(parsed.BaseAddress) || parsed.PrefixLength < 16 && parsed.Contains(System.Net.IPAddress.Parse("169.254.0.0")))
        {
            return false;
        }
        network = parsed.ToString();
        return true;
    }

    /// <summary>The IPv4 nameservers of the host's resolver files other than loopback ones (which Docker does not pass on to containers).</summary>
    internal static IReadOnlyList<System.Net.IPAddress> HostResolvers(IEnumerable<string> lines) =>
    [
        .. lines
            .Select(line => line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(words => words.Length >= 2 && words[0] == "nameserver")
            .Select(words => System.Net.IPAddress.TryParse(words[1], out var address) ? address : null)
            .OfType<System.Net.IPAddress>()
            .Where(address => address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !System.Net.IPAddress.IsLoopback(address))
            .Distinct(),
    ];

    private async Task ApplyFirewallAsync(string bridge, CancellationToken cancellationToken)
    {
        var endpoint = options.Value.DockerEndpoint;
        if (!OperatingSystem.IsLinux() || !endpoint.StartsWith("unix:", StringComparison.Ordinal) || Environment.UserName != "root")
        {
            LogFirewallSkipped(bridge, "the API is not root on the engine's Linux host");
            return;
        }
        var lines = new List<string>();
        foreach (var file in ResolverFiles)
        {
            if (File.Exists(file))
            {
                lines.AddRange(await File.ReadAllLinesAsync(file, cancellationToken));
            }
        }
        var allowed = options.Value.AllowedPrivateNetworks.Select(text => TryParseAllowedNetwork(text, out var network) ? network : null).OfType<string>();
        // The chain first (the jump to a chain that does not exist yet would be refused), then the jump and the INPUT rule.
        if (await RunAsync("iptables-restore", ["-w", "--noflush"], ChainRules(bridge, HostResolvers(lines), allowed), cancellationToken) is var restored and not 0)
        {
            LogFirewallSkipped(bridge, $"iptables-restore exited with {restored}");
            return;
        }
        foreach (var rule in FirewallRules(bridge))
        {
            string[] check = ["-w", "-C", .. rule];
            if (await RunAsync("iptables", check, null, cancellationToken) == 0)
            {
                continue;
            }
            string[] insert = ["-w", "-I", .. rule];
            if (await RunAsync("iptables", insert, null, cancellationToken) is var code and not 0)
            {
                LogFirewallSkipped(bridge, $"iptables {string.Join(' ', insert)} exited with {code}");
            }
        }
        // The one rule of earlier versions, now part of the chain.
        await RunAsync("iptables", ["-w", "-D", "DOCKER-USER", "-i", bridge, "-d", "169.254.0.0/16", "-j", "DROP"], null, cancellationToken);
    }

    /// <summary>Runs <paramref name="program"/> (<c>-w</c> in its arguments waits for the xtables lock instead of failing while dockerd holds it), writing <paramref name="input"/> to its standard input; its exit status, 127 when it cannot be started.</summary>
    private static async Task<int> RunAsync(string program, string[] arguments, string? input, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = input is not null,
        };
        try
        {
            using var process = Process.Start(start)!;
            if (input is not null)
            {
                await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken);
                process.StandardInput.Close();
            }
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Computers on bridge {Bridge} are not kept off the host and private and link-local addresses: {Reason}. Apply the rules of README's Security model by hand.")]
    private partial void LogFirewallSkipped(string bridge, string reason);
}
