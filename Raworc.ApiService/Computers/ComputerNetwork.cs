using System.Globalization;
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
/// <item><c>-t raw PREROUTING -i &lt;bridge&gt; -d 127.0.0.0/8 -j DROP</c>: nothing a computer addresses to the host's
/// loopback is forwarded on to a port the engine published there (<see cref="FirewallRules"/>).</item>
/// <item><c>INPUT -i &lt;bridge&gt; -j DROP</c>: nothing a computer sends reaches the host itself (services bound on
/// any address, the bridge's gateway, Docker's published ports of other containers on the host's addresses).</item>
/// <item><c>DOCKER-USER -i &lt;bridge&gt; -j RAWORC-&lt;bridge&gt;</c>, a chain of Raworc's own that drops what
/// computers send anywhere but the internet: link-local (169.254.0.0/16: cloud metadata services), private, shared and
/// reserved addresses (<see cref="PrivateNetworks"/>), and every network the host routes other than by its default
/// route (<see cref="HostRoutes"/>: its LAN whatever addresses it uses, bridges Docker does not manage, a VPN) — after
/// letting through DNS (udp and tcp port 53) to the host's resolvers, which Docker's DNS on the network asks from inside
/// the computer's namespace, and <see cref="ComputerOptions.AllowedPrivateNetworks"/>.</item>
/// </list>
/// The first three are checked with <c>iptables -C</c> before being inserted; the chain is written whole by one
/// <c>iptables-restore --noflush</c> (atomic: no moment without it), so repeating this is harmless and a changed
/// setting, route or resolver replaces the old list. The network is made on the first computer create; the chain is
/// compared with the host's state on every create and rewritten when it differs; so is the bridge's
/// <c>route_localnet</c>, kept off (<see cref="KeepLoopbackOffTheBridge"/>). With <see cref="ComputerEgress.None"/>
/// computers use no network at all.
/// </summary>
public sealed partial class ComputerNetwork(IDockerClient docker, IOptions<ComputerOptions> options, ILogger<ComputerNetwork> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _ready;
    // The chain text last written (null: none yet), and whether the firewall cannot be managed from this process.
    private volatile string? _appliedChain;
    private volatile bool _cannotManage;
    // Whether the warning that route_localnet could not be checked on the bridge was logged.
    private volatile bool _loopbackWarned;

    /// <summary>
    /// Makes sure the network exists and, where possible, that the firewall rules match the host as it is now: the chain
    /// is rewritten whenever the host's routes or resolvers changed since it was last written (checked on every call by
    /// reading <c>/proc/net/route</c> and the resolver files, some tens of microseconds; rewritten before the computer
    /// this call is for starts), and that the bridge does not route loopback addresses (<see cref="KeepLoopbackOffTheBridge"/>,
    /// whatever <see cref="ComputerOptions.ManageFirewall"/> says: it is a setting of Raworc's own bridge, not a firewall rule).
    /// </summary>
    /// <exception cref="DockerApiException">The engine refused to create the network.</exception>
    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.Egress == ComputerEgress.None)
        {
            return;
        }
        var chain = settings.ManageFirewall && !_cannotManage ? await DesiredChainAsync(settings, cancellationToken) : null;
        if (!_ready || chain != _appliedChain)
        {
            await EnsureNetworkAndChainAsync(settings, chain, cancellationToken);
        }
        if (ManagesHost(settings))
        {
            KeepLoopbackOffTheBridge(settings.BridgeName);
        }
    }

    private async Task EnsureNetworkAndChainAsync(ComputerOptions settings, string? chain, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!_ready)
            {
                var existing = await docker.Networks.ListNetworksAsync(new NetworksListParameters
                {
                    Filters = new Dictionary<string, IDictionary<string, bool>> { ["name"] = new Dictionary<string, bool> { [settings.Network] = true } },
                }, cancellationToken);
                // The name filter matches substrings; only an exact name counts.
                if (!existing.Any(n => n.Name == settings.Network))
                {
                    await CreateAsync(settings, cancellationToken);
                }
                _ready = true;
            }
            if (chain is not null && chain != _appliedChain)
            {
                await ApplyFirewallAsync(settings.BridgeName, chain, cancellationToken);
            }
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
                Options = BridgeOptions(settings.BridgeName),
            }, cancellationToken);
            LogNetworkCreated(settings.Network, settings.BridgeName);
        }
        catch (DockerApiException exception) when (exception.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            // Another replica made it first.
        }
    }

    /// <summary>
    /// Destinations no computer reaches unless listed in <see cref="ComputerOptions.AllowedPrivateNetworks"/> (link-local
    /// never): link-local (RFC 3927), private (RFC 1918), shared (RFC 6598), and the reserved ranges that are not the
    /// internet but that networks do use (IANA's special-purpose registry: 0/8 "this network", 192.0.0/24, 198.18/15
    /// for benchmarking, which some cloud networks take, and 240/4); then every network the host routes itself
    /// (<see cref="HostRoutes"/>).
    /// </summary>
    internal static readonly IReadOnlyList<System.Net.IPNetwork> PrivateNetworks =
    [
        .. new[] { "169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                   "0.0.0.0/8", "192.0.0.0/24", "198.18.0.0/15", "240.0.0.0/4" }.Select(System.Net.IPNetwork.Parse),
    ];

    /// <summary>Files the host's DNS resolvers are read from: the system's, and systemd-resolved's upstream list that Docker reads when the first names only its local stub.</summary>
    private static readonly string[] ResolverFiles = ["/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"];

    /// <summary>The host's IPv4 routing table (Linux).</summary>
    internal const string RouteFile = "/proc/net/route";

    /// <summary>
    /// The bridge driver's options of the computers' network, the same on every engine (the single engine's network and each
    /// Swarm node's configuration network): inter-container traffic off (<c>enable_icc=false</c>: no computer reaches
    /// another on the bridge), and the bridge interface named <paramref name="bridge"/>, which the firewall rules
    /// (<see cref="FirewallRules"/>) match on. Keys from Docker's bridge driver documentation.
    /// </summary>
    internal static Dictionary<string, string> BridgeOptions(string bridge) => new()
    {
        ["com.docker.network.bridge.enable_icc"] = "false",
        ["com.docker.network.bridge.name"] = bridge,
    };

    /// <summary>Name of Raworc's chain for <paramref name="bridge"/> (at most 22 characters; iptables allows 28).</summary>
    internal static string ChainName(string bridge) => $"RAWORC-{bridge}";

    /// <summary>
    /// The rules checked and inserted one by one: the table, and the iptables arguments (chain, then the match and target).
    /// The first drops what a computer sends to 127.0.0.0/8 before any address translation: code with no capability can
    /// put such packets on the bridge (a socket bound to its interface with <c>SO_BINDTODEVICE</c>, open to every user
    /// since Linux 5.7), and the engine's forwarding of ports published on the host's 127.0.0.1 (its <c>nat</c> rules,
    /// which name no incoming interface) would otherwise send them on to the published containers.
    /// </summary>
    internal static IReadOnlyList<(string Table, string[] Rule)> FirewallRules(string bridge) =>
    [
        ("raw", ["PREROUTING", "-i", bridge, "-d", "127.0.0.0/8", "-j", "DROP"]),
        ("filter", ["INPUT", "-i", bridge, "-j", "DROP"]),
        ("filter", ["DOCKER-USER", "-i", bridge, "-j", ChainName(bridge)]),
    ];

    /// <summary>
    /// The <c>iptables-restore --noflush</c> input that (re)writes Raworc's chain for <paramref name="bridge"/>: DNS to
    /// each of <paramref name="resolvers"/> and everything to <paramref name="allowed"/> return to Docker's rules, then
    /// every <see cref="PrivateNetworks"/> destination and every one of <paramref name="routes"/> (the host's own
    /// networks, <see cref="HostRoutes"/>) not within those is dropped. Before all of them, a new flow from a computer that
    /// already has <paramref name="trackedFlows"/> in the host's connection-tracking table is rejected, and so is one past
    /// <paramref name="newFlowsPerSecond"/> a second once a burst of <paramref name="trackedFlows"/> is spent.
    /// </summary>
    internal static string ChainRules(string bridge, IEnumerable<System.Net.IPAddress> resolvers, IEnumerable<string> allowed,
        IEnumerable<System.Net.IPNetwork> routes, int trackedFlows, int newFlowsPerSecond)
    {
        var chain = ChainName(bridge);
        var rules = new System.Text.StringBuilder($"*filter\n:{chain} - [0:0]\n");
        // First: a new flow past the computer's share of the host's connection-tracking table is refused at once (a
        // dropped first packet never becomes an entry), whatever its destination.
        rules.Append(CultureInfo.InvariantCulture,
            $"-A {chain} -m conntrack --ctstate NEW -m connlimit --connlimit-above {trackedFlows} --connlimit-mask 32 --connlimit-saddr -j REJECT --reject-with icmp-admin-prohibited\n");
        // Closed TCP connections stay in the table uncounted by connlimit (up to 120 s): the rate of new flows bounds them.
        // The hashlimit's name is the bridge's (at most 15 characters, as the match requires); its burst at most 10,000 (the
        // kernel's XT_HASHLIMIT_BURST_MAX).
        rules.Append(CultureInfo.InvariantCulture,
            $"-A {chain} -m conntrack --ctstate NEW -m hashlimit --hashlimit-above {newFlowsPerSecond}/sec --hashlimit-burst {Math.Min(trackedFlows, 10_000)} --hashlimit-mode srcip --hashlimit-name {bridge} -j REJECT --reject-with icmp-admin-prohibited\n");
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
        foreach (var route in routes.Distinct())
        {
            if (!PrivateNetworks.Any(range => Within(route, range)))
            {
                rules.Append($"-A {chain} -d {route} -j DROP\n");
            }
        }
        return rules.Append("COMMIT\n").ToString();
    }

    /// <summary>
    /// The networks the host routes other than by its default route, in CIDR form, from the lines of
    /// <c>/proc/net/route</c> (interface, destination, gateway, flags, …, mask; destination and mask as the kernel's
    /// in-memory 32-bit value in hexadecimal, which on a little-endian machine reads as the address bytes reversed): the
    /// networks of its own interfaces (its LAN, whatever addresses it uses, other bridges) and those it reaches through a
    /// gateway of its own (a VPN, a peered network). Only the default route leads to the internet.
    /// </summary>
    internal static IReadOnlyList<System.Net.IPNetwork> HostRoutes(IEnumerable<string> lines)
    {
        var routes = new List<System.Net.IPNetwork>();
        foreach (var line in lines.Skip(1))
        {
            var fields = line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 8
                || !uint.TryParse(fields[1], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var destination)
                || !uint.TryParse(fields[7], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var mask)
                || mask == 0)
            {
                continue;
            }
            var bytes = BitConverter.GetBytes(destination);
            if (!BitConverter.IsLittleEndian)
            {
                Array.Reverse(bytes);
            }
            var length = System.Numerics.BitOperations.PopCount(mask);
            routes.Add(new System.Net.IPNetwork(new System.Net.IPAddress(bytes), length));
        }
        return routes;
    }

    /// <summary>
    /// Reads an entry of <see cref="ComputerOptions.AllowedPrivateNetworks"/>: an IPv4 network in CIDR form, not within
    /// 169.254.0.0/16 (metadata services stay out of reach). <paramref name="network"/> is its canonical form
    /// (<c>10.1.2.0/24</c> for <c>10.1.2.7/24</c>).
    /// </summary>
    public static bool TryParseAllowedNetwork(string text, out string network)
    {
        network = "";
        // Read by hand rather than by IPNetwork.TryParse, which refuses a base address with bits set past the prefix.
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !System.Net.IPAddress.TryParse(text.AsSpan(0, slash), out var address)
            || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
            || !int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length)
            || length > 32)
        {
            return false;
        }
        var bits = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());
        var bytes = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, length == 0 ? 0u : bits & (uint.MaxValue << (32 - length)));
        var parsed = new System.Net.IPNetwork(new System.Net.IPAddress(bytes), length);
        if (Overlaps(parsed, LinkLocal))
        {
            return false;
        }
        network = parsed.ToString();
        return true;
    }

    private static readonly System.Net.IPNetwork LinkLocal = System.Net.IPNetwork.Parse("169.254.0.0/16");

    /// <summary>Whether <paramref name="inner"/> lies within <paramref name="outer"/>.</summary>
    private static bool Within(System.Net.IPNetwork inner, System.Net.IPNetwork outer) =>
        outer.PrefixLength <= inner.PrefixLength && outer.Contains(inner.BaseAddress);

    /// <summary>Whether the two networks share an address (one lies within the other: CIDR networks nest or are apart).</summary>
    private static bool Overlaps(System.Net.IPNetwork a, System.Net.IPNetwork b) => Within(a, b) || Within(b, a);

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

    /// <summary>Whether this process may change the engine's host: the engine is local (a Unix socket) on Linux and the API runs as root.</summary>
    internal static bool ManagesHost(ComputerOptions settings) =>
        OperatingSystem.IsLinux() && settings.DockerEndpoint.StartsWith("unix:", StringComparison.Ordinal) && Environment.UserName == "root";

    /// <summary>
    /// The kernel setting (<c>0</c> or <c>1</c>) by which <paramref name="bridge"/> accepts and sends packets addressed to
    /// or from 127.0.0.0/8 (Linux's <c>ip-sysctl</c> documentation, <c>route_localnet</c>).
    /// </summary>
    internal static string RouteLocalnetPath(string bridge) => $"/proc/sys/net/ipv4/conf/{bridge}/route_localnet";

    /// <summary>
    /// Turns <c>route_localnet</c> off on the computers' bridge when it is on. An engine run without its userland proxy
    /// (<c>dockerd --userland-proxy=false</c>, as <c>eng/docker-engine.sh</c> starts it) turns it on for every bridge it
    /// sets up — when it makes the network and again at each of its own starts — so that the host's connections to
    /// 127.0.0.1 reach published ports. On the computers' bridge it would let a computer that writes its own packets
    /// address the host's 127.0.0.1 and every service bound there (the class of CVE-2020-8558); no computer publishes a
    /// port, so nothing needs it. The firewall's <c>INPUT</c> rule drops such packets as well; this holds without it
    /// (<see cref="ComputerOptions.ManageFirewall"/> off). A read of one small file on every create (some microseconds);
    /// a bridge that is not on this host (the network made elsewhere) is left alone.
    /// </summary>
    private void KeepLoopbackOffTheBridge(string bridge)
    {
        var path = RouteLocalnetPath(bridge);
        try
        {
            if (File.ReadAllText(path).Trim() == "0")
            {
                return;
            }
            File.WriteAllText(path, "0");
            LogLoopbackRoutingTurnedOff(bridge);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            if (!_loopbackWarned)
            {
                _loopbackWarned = true;
                LogLoopbackRoutingNotChecked(bridge, exception is FileNotFoundException or DirectoryNotFoundException
                    ? "the bridge is not on this host" : "the kernel refused the change");
            }
        }
    }

    // The chain the host's routes, resolvers and the settings call for now; null (and a warning once) where this process
    // cannot manage the firewall.
    private async Task<string?> DesiredChainAsync(ComputerOptions settings, CancellationToken cancellationToken)
    {
        if (!ManagesHost(settings))
        {
            _cannotManage = true;
            LogFirewallSkipped(settings.BridgeName, "the API is not root on the engine's Linux host");
            return null;
        }
        var resolverLines = new List<string>();
        foreach (var file in ResolverFiles)
        {
            if (File.Exists(file))
            {
                resolverLines.AddRange(await File.ReadAllLinesAsync(file, cancellationToken));
            }
        }
        var allowed = settings.AllowedPrivateNetworks.Select(text => TryParseAllowedNetwork(text, out var network) ? network : null).OfType<string>();
        var routes = File.Exists(RouteFile) ? HostRoutes(await File.ReadAllLinesAsync(RouteFile, cancellationToken)) : [];
        return ChainRules(settings.BridgeName, HostResolvers(resolverLines), allowed, routes, settings.TrackedFlowsPerComputer,
            settings.NewFlowsPerSecondPerComputer);
    }

    private async Task ApplyFirewallAsync(string bridge, string chain, CancellationToken cancellationToken)
    {
        // The chain first (the jump to a chain that does not exist yet would be refused), then the other rules and the jump.
        if (await RunAsync("iptables-restore", ["-w", "--noflush"], chain, cancellationToken) is var restored and not 0)
        {
            _cannotManage = true;
            LogFirewallSkipped(bridge, $"iptables-restore exited with {restored}");
            return;
        }
        foreach (var (table, rule) in FirewallRules(bridge))
        {
            string[] check = ["-w", "-t", table, "-C", .. rule];
            if (await RunAsync("iptables", check, null, cancellationToken) == 0)
            {
                continue;
            }
            string[] insert = ["-w", "-t", table, "-I", .. rule];
            if (await RunAsync("iptables", insert, null, cancellationToken) is var code and not 0)
            {
                _cannotManage = true;
                LogFirewallSkipped(bridge, $"iptables {string.Join(' ', insert)} exited with {code}");
                return;
            }
        }
        if (_appliedChain is null)
        {
            // The one rule of earlier versions, now part of the chain.
            await RunAsync("iptables", ["-w", "-D", "DOCKER-USER", "-i", bridge, "-d", "169.254.0.0/16", "-j", "DROP"], null, cancellationToken);
        }
        _appliedChain = chain;
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Turned route_localnet off on bridge {Bridge} (the engine had turned it on, as it does without its userland proxy): computers cannot address the host's 127.0.0.1")]
    private partial void LogLoopbackRoutingTurnedOff(string bridge);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check route_localnet on bridge {Bridge}: {Reason}. If the engine runs without its userland proxy, set net.ipv4.conf.{Bridge}.route_localnet=0 on its host.")]
    private partial void LogLoopbackRoutingNotChecked(string bridge, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Computers on bridge {Bridge} are not kept off the host and private and link-local addresses: {Reason}. Apply the rules of README's Security model by hand.")]
    private partial void LogFirewallSkipped(string bridge, string reason);
}
