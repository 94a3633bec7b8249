using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using Raworc.ApiService.Computers;
using Raworc.Tests.Cli;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Computers;

/// <summary>
/// A session's computer is a boundary: each test here is a real attempt, from inside a real computer and as the user
/// the Host's tools run as, to reach what the session's code must not reach. Where the target could be absent for
/// another reason, the test first shows from the host that the target is there and answering.
/// </summary>
[ComputerLane]
[Collection(ComputersAppCollection.Name)]
public sealed class ComputerBoundaryTests(ComputersAppFixture fixture) : IAsyncLifetime
{
    /// <summary>On Swarm, deletes the sessions earlier tests left (<see cref="ComputersAppFixture.MakeRoomAsync"/>).</summary>
    public Task InitializeAsync() => fixture.MakeRoomAsync();

    /// <inheritdoc />
    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Exit status of <c>timeout</c> when the command ran out of time (the connection was silently dropped).</summary>
    private const int TimedOut = 124;

    private async Task<(HttpClient Client, Guid Id)> IdleSessionAsync(string prefix, string? modelKey = null)
    {
        var (_, client) = await fixture.CreateOperatorAsync(prefix);
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = modelKey ?? ComputersAppFixture.NewModelKey() } })).Id();
        await client.WaitForStateAsync(id, "idle");
        return (client, id);
    }

    /// <summary>
    /// An idle session whose volume is a plain engine volume, as one made before volume filesystems (or with
    /// Computers:VolumeFileSystems off) is: the API measures it every 5 s and closes the session over a limit.
    /// </summary>
    private async Task<(HttpClient Client, Guid Id)> MeasuredSessionAsync(string prefix)
    {
        var (client, id) = await IdleSessionAsync(prefix);
        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        await client.WaitForStateAsync(id, "closed");
        await fixture.Probe.MakeVolumePlainAsync(id);
        await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
        await client.WaitForStateAsync(id, "idle", TimeSpan.FromSeconds(ComputersAppFixture.StartDeadlineSeconds + 15));
        return (client, id);
    }

    /// <summary>
    /// A new idle session of <paramref name="client"/>'s operator whose volume holds 45 MiB of random bytes (real blocks of
    /// the host's disk once synced), then whatever <paramref name="more"/> adds (a bash line run after).
    /// </summary>
    private async Task<Guid> FilledSessionAsync(HttpClient client, string more = "true")
    {
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() } })).Id();
        await client.WaitForStateAsync(id, "idle");
        var filled = await fixture.RunInsideAsync(id, $"head -c 47185920 /dev/urandom > /session/data/fill && {more} && sync; echo $?");
        Assert.True(filled.Stdout == "0\n", filled.Stderr);
        return id;
    }

    /// <summary>A bash line that tries a TCP connection for at most 3 s; exit 0 only when it was accepted.</summary>
    private static string Connect(string address, int port) => $"timeout 3 bash -c 'exec 3<>/dev/tcp/{address}/{port}'";

    [Fact]
    [OnlyProvider("docker", "two computers on the one engine's network; on Swarm each node has a computers' bridge of its own, and a computer's address means nothing on another node (there it was another computer's own, which refused): SwarmBoundaryTests tries computers beside the prober and on the other node")]
    public async Task ComputersCannotReachEachOther()
    {
        var (a, serverId) = await IdleSessionAsync("server");
        var (b, otherId) = await IdleSessionAsync("other");
        using var _ = a;
        using var __ = b;
        await fixture.RunInsideAsync(serverId, "cd /session/data && echo secret-of-a > a.txt && (setsid python3 -m http.server 8123 >/dev/null 2>&1 &)");
        await Waits.UntilAsync(async () => (await fixture.RunInsideAsync(serverId, "curl -sf http://127.0.0.1:8123/a.txt")).Stdout == "secret-of-a\n",
            "A's server answering A");
        var address = (await fixture.InspectContainerAsync(serverId))
            .NetworkSettings.Networks.Single().Value.IPAddress;

        var fromB = await fixture.RunInsideAsync(otherId, $"curl -sf -m 3 http://{address}:8123/a.txt; echo \" exit=$?\"");
        var loopbackOfB = await fixture.RunInsideAsync(otherId, "curl -sf -m 3 http://127.0.0.1:8123/a.txt; echo \" exit=$?\"");

        // 28: curl's time-out — the packets go nowhere; 7: nothing listens on B's own loopback.
        Assert.Equal(" exit=28\n", fromB.Stdout);
        Assert.Equal(" exit=7\n", loopbackOfB.Stdout);
    }

    [Fact]
    [OnlyProvider("docker", "the host is this machine behind the main engine's network raworc-computers; on Swarm a computer's host is its node, whose own network SwarmBoundaryTests probes")]
    public async Task ComputerCannotReachAnyPortOfTheHost()
    {
        var (client, id) = await IdleSessionAsync("prober");
        using var _ = client;
        var network = await fixture.Docker.Networks.InspectNetworkAsync("raworc-computers");
        var gateway = network.IPAM.Config.Single().Gateway;
        // A service of the host bound on every address, as a careless one would be.
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var open = ((IPEndPoint)listener.LocalEndpoint).Port;
        using (var fromHost = new TcpClient())
        {
            await fromHost.ConnectAsync(IPAddress.Parse(gateway), open);
        }
        var api = fixture.CreateApiClient().BaseAddress!.Port;
        var postgres = new Npgsql.NpgsqlConnectionStringBuilder(await fixture.App.GetConnectionStringAsync(ResourceNames.Database)).Port;
        var redis = int.Parse((await fixture.App.GetConnectionStringAsync(ResourceNames.Redis))!.Split(',')[0].Split(':')[1],
            System.Globalization.CultureInfo.InvariantCulture);

        foreach (var port in new[] { open, api, postgres, redis })
        {
            var attempt = await fixture.RunInsideAsync(id, Connect(gateway, port));
            Assert.True(attempt.ExitCode == TimedOut, $"port {port} of the host answered the computer (exit {attempt.ExitCode}: {attempt.Stderr})");
        }
    }

    /// <summary>
    /// Code with no capability can address the host's loopback from inside a computer: a socket bound to the computer's
    /// interface (<c>SO_BINDTODEVICE</c>, open to every user since Linux 5.7) sends to 127.0.0.1 through the bridge's
    /// gateway, and the engine forwards the ports it published on the host's 127.0.0.1 (Postgres's and Redis's here)
    /// without asking which interface a packet came in on. A break-out attempt saw its SYNs to those two ports turned into
    /// packets for the Postgres and Redis containers, stopped then only by the chain's private-range drop. The raw table's
    /// drop now stops them before any translation: the test sends an exact number of datagrams and reads that rule's count.
    /// </summary>
    [Fact]
    [OnlyProvider("docker", "the rule is on this machine's computers' bridge; a Swarm node's firewall is its operator's")]
    public async Task WhatAComputerAddressesToTheHostsLoopbackIsDroppedBeforeThePublishedPortsAreForwarded()
    {
        var (client, id) = await IdleSessionAsync("loopback");
        using var _ = client;
        var postgres = new Npgsql.NpgsqlConnectionStringBuilder(await fixture.App.GetConnectionStringAsync(ResourceNames.Database)).Port;
        var before = await LoopbackDropsAsync();

        var sent = await fixture.RunInsideAsync(id, "python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            + "s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'eth0'); "
            + $"print(sum(s.sendto(b'x', ('127.0.0.1', {postgres})) for _ in range(5)))\"");

        Assert.Equal("5\n", sent.Stdout);
        // Under gVisor the sandbox's own network stack keeps 127.0.0.0/8 inside the sandbox even for a socket bound to
        // eth0: the datagrams never reach the bridge (measured: the rule's count does not move), and the rule is there all
        // the same.
        Assert.Equal(before + (TestRuntime.Name == "runsc" ? 0 : 5), await LoopbackDropsAsync());
    }

    /// <summary>Packets the raw table's drop of 127.0.0.0/8 from <c>raworc0</c> has counted (the API's firewall rule).</summary>
    private static async Task<long> LoopbackDropsAsync()
    {
        var listing = await RunAsync("iptables", "-w -t raw -L PREROUTING -v -x -n");
        var rule = listing.Split('\n').Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .FirstOrDefault(fields => fields is [_, _, "DROP", _, _, "raworc0", "*", _, "127.0.0.0/8", ..]);
        Assert.True(rule is not null, $"no drop of 127.0.0.0/8 from raworc0 in the raw table:\n{listing}");
        return long.Parse(rule[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task ComputerCannotReachLinkLocalAddressesSuchAsCloudMetadata()
    {
        // A metadata service one hop away from the computer's host, as in a cloud. Its address is link-local but not
        // 169.254.169.254 itself: a cloud machine may already route that one to its own provider (a more specific route
        // than this test's /24), and the firewall rule covers all of 169.254.0.0/16.
        var (client, id) = await IdleSessionAsync("metadata");
        using var _ = client;

        var attempt = await ConnectToAServiceOneHopAwayAsync(id, () => $"169.254.{100 + Random.Shared.Next(100)}");

        Assert.Equal(TimedOut, attempt);
    }

    /// <summary>
    /// A service on a private network the computer's host routes but Docker does not manage (a LAN, a cloud VPC's
    /// database, another bridge such as the Swarm test cluster's, where a break-out attempt reached the nodes' 2377 and
    /// 7946): one prefix of each private range of RFC 1918 and the shared range of RFC 6598.
    /// </summary>
    [Theory]
    [InlineData("10")]
    [InlineData("172.16")]
    [InlineData("192.168")]
    [InlineData("100.64")]
    public async Task ComputerCannotReachAServiceOnAPrivateNetworkOfItsHost(string range)
    {
        var (client, id) = await IdleSessionAsync("private");
        using var _ = client;
        // 10.213.* is the test clusters' and 10.255.* may hold this machine's resolver; Docker's pools start at 172.17
        // and take 192.168.0.0/16 from the bottom in /20s.
        Func<string> subnet = range switch
        {
            "10" => () => $"10.{220 + Random.Shared.Next(30)}.{Random.Shared.Next(250)}",
            "172.16" => () => $"172.16.{Random.Shared.Next(250)}",
            "192.168" => () => $"192.168.{200 + Random.Shared.Next(50)}",
            _ => () => $"100.{64 + Random.Shared.Next(60)}.{Random.Shared.Next(250)}",
        };

        var attempt = await ConnectToAServiceOneHopAwayAsync(id, subnet);

        Assert.Equal(TimedOut, attempt);
    }

    /// <summary>
    /// A network the host routes is out of reach whatever its addresses: the host's LAN may use public-style ones (this
    /// machine's is 192.0.2.0/24), as may a cloud network ("privately used public" ranges), and a break-out attempt reached
    /// such a network when only the private ranges were dropped. Here TEST-NET-2 (198.51.100.0/24), which is in no fixed
    /// range of the firewall, on a veth of the host made before the session: the chain follows the host's routes.
    /// </summary>
    [Fact]
    [OnlyProvider("docker", "the network is made on this machine before the session, and the API rewrites its chain from this machine's routes; a Swarm node's firewall is its operator's (eng/swarm-cluster.sh's nodes route nowhere but their own network)")]
    public async Task ComputerCannotReachANetworkItsHostRoutesWhateverItsAddresses()
    {
        await using var service = await ServiceOneHopAway.StartAsync(null, () => "198.51.100");
        var (client, id) = await IdleSessionAsync("routed");
        using var _ = client;

        var attempt = await fixture.RunInsideAsync(id, Connect(service.Address, 80));

        Assert.Equal(TimedOut, attempt.ExitCode);
    }

    /// <summary>
    /// Starts a service one hop away from the session's computer's host (<see cref="ServiceOneHopAway"/>; on Swarm the
    /// host is the computer's node), then tries to connect to it from inside the computer; returns the attempt's exit
    /// status (<see cref="TimedOut"/> when the packets went nowhere).
    /// </summary>
    private async Task<long> ConnectToAServiceOneHopAwayAsync(Guid id, Func<string> subnet)
    {
        var node = fixture.OnSwarm
            ? Path.GetFileNameWithoutExtension((await fixture.RequireContainerAsync(id)).Engine.Configuration.EndpointBaseUri.AbsolutePath)
            : null;
        await using var service = await ServiceOneHopAway.StartAsync(node, subnet);
        return (await fixture.RunInsideAsync(id, Connect(service.Address, 80))).ExitCode;
    }

    /// <summary>
    /// An HTTP service on port 80 one hop away from a host — in a network namespace of this run, joined to the host by a
    /// veth pair on a /24 that the subnet function picks (its first three octets; tried again while the host already
    /// routes the pick to a network of its own) — shown answering the host before it is handed out. The host is this
    /// machine, or a node of the Swarm test cluster named by its namespace (eng/swarm-cluster.sh names it as the node's
    /// engine socket, /run/&lt;cluster&gt;-&lt;n&gt;.sock). Disposing stops the service and removes both namespaces' links.
    /// </summary>
    private sealed class ServiceOneHopAway : IAsyncDisposable
    {
        private readonly string _at;
        private readonly string _ns;
        private readonly string _hostSide;
        private System.Diagnostics.Process? _server;

        private ServiceOneHopAway(string at, string ns, string hostSide, string address) =>
            (_at, _ns, _hostSide, Address) = (at, ns, hostSide, address);

        /// <summary>The service's address (port 80).</summary>
        public string Address { get; }

        public static async Task<ServiceOneHopAway> StartAsync(string? node, Func<string> subnet)
        {
            var at = node is null ? "" : $"-n {node} ";
            var picked = subnet();
            for (var tries = 1; tries < 10 && !(await RunAsync("ip", $"{at}route get {picked}.254")).Contains(" via ", StringComparison.Ordinal); tries++)
            {
                picked = subnet();
            }
            var suffix = Guid.NewGuid().ToString("N")[..6];
            var (nsSide, address) = ($"rsv{suffix}n", $"{picked}.254");
            var service = new ServiceOneHopAway(at, $"raworc-svc-{suffix}", $"rsv{suffix}h", address);
            var ns = service._ns;
            await IpAsync($"netns add {ns}");
            try
            {
                await IpAsync($"link add {service._hostSide} type veth peer name {nsSide}");
                await IpAsync($"link set {nsSide} netns {ns}");
                if (node is not null)
                {
                    await IpAsync($"link set {service._hostSide} netns {node}");
                }
                await IpAsync($"{at}addr add {picked}.1/24 dev {service._hostSide}");
                await IpAsync($"{at}link set {service._hostSide} up");
                await IpAsync($"netns exec {ns} ip addr add {address}/24 dev {nsSide}");
                await IpAsync($"netns exec {ns} ip link set {nsSide} up");
                await IpAsync($"netns exec {ns} ip link set lo up");
                await IpAsync($"netns exec {ns} ip route add default via {picked}.1");
                var server = service._server = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(
                    "ip", ["netns", "exec", ns, "python3", "-u", "-m", "http.server", "80", "--bind", address])
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                })!;
                var serverOutput = new System.Text.StringBuilder();
                server.OutputDataReceived += (_, line) => { lock (serverOutput) { serverOutput.AppendLine(line.Data); } };
                server.ErrorDataReceived += (_, line) => { lock (serverOutput) { serverOutput.AppendLine(line.Data); } };
                server.BeginOutputReadLine();
                server.BeginErrorReadLine();
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
                var answered = false;
                using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
                {
                    while (!answered && !deadline.IsCancellationRequested)
                    {
                        try
                        {
                            answered = node is null
                                ? (await http.GetAsync($"http://{address}/")).IsSuccessStatusCode
                                : await RunAsync("ip", $"netns exec {node} curl -s -m 3 -o /dev/null -w %{{http_code}} http://{address}/") == "200";
                        }
                        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                        {
                        }
                        if (!answered)
                        {
                            await Task.Delay(200);
                        }
                    }
                }
                if (!answered)
                {
                    var route = await RunAsync("ip", $"{at}route get {address}");
                    lock (serverOutput)
                    {
                        Assert.Fail($"the stand-in service at {address} never answered the computer's host; "
                            + $"server exited: {server.HasExited}; route: {route.Trim()}; server said: {serverOutput}");
                    }
                }
                return service;
            }
            catch
            {
                await service.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_server is { } server)
            {
                server.Kill(entireProcessTree: true);
                server.Dispose();
            }
            await IpAsync($"{_at}link del {_hostSide}", check: false);
            await IpAsync($"netns del {_ns}", check: false);
        }
    }

    /// <summary>
    /// The host's connection-tracking table is the whole machine's: a full one drops every new flow, the API's own to
    /// Postgres and Redis included. A break-out attempt filled 40,000 entries in 1.7 s from one computer with UDP to as
    /// many ports of one internet address; the firewall's chain now refuses a computer's new flows past its share.
    /// </summary>
    [Fact]
    [OnlyProvider("docker", "the bound is a rule of the chain the API writes on this machine; a Swarm node's firewall is its operator's")]
    public async Task AComputerCannotFillTheHostsConnectionTrackingTable()
    {
        var (client, id) = await IdleSessionAsync("flows");
        using var _ = client;
        var share = new ComputerOptions().TrackedFlowsPerComputer;
        // 203.0.113.7 (TEST-NET-3) leads out by the default route, which the chain lets through; nothing answers.
        var flood = await fixture.RunInsideAsync(id, $$"""
            python3 -c '
            import socket
            sent = 0
            for port in range(1, {{share * 2}} + 1):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    s.sendto(b"x", ("203.0.113.7", port)); sent += 1
                except OSError:
                    pass
                s.close()
            print(sent)'
            """);
        var address = (await fixture.InspectContainerAsync(id)).NetworkSettings.Networks.Single().Value.IPAddress;

        var tracked = File.ReadLines("/proc/net/nf_conntrack").Count(line => line.Contains($" src={address} ", StringComparison.Ordinal));

        Assert.Equal(0, flood.ExitCode);
        Assert.Equal(share, tracked);
    }

    /// <summary>
    /// Names still resolve inside a computer when the host's resolver has a private address (this machine's is
    /// 10.255.255.53): Docker's DNS on the computers' network asks the host's resolvers from inside the computer's own
    /// network namespace, through the same firewall that keeps private networks out.
    /// </summary>
    [Fact]
    public async Task ComputerResolvesNamesThroughTheHostsResolverThoughItHasAPrivateAddress()
    {
        const string Name = "api.nuget.org";
        var onHost = (await RunAsync("getent", $"ahostsv4 {Name}")).Split('\n')[0].Split(' ')[0];
        Assert.True(IPAddress.TryParse(onHost, out var parsed) && parsed.AddressFamily == AddressFamily.InterNetwork, $"the host itself does not resolve {Name}: '{onHost}'");
        var (client, id) = await IdleSessionAsync("resolver");
        using var _ = client;

        var inside = await fixture.RunInsideAsync(id, $"getent ahostsv4 {Name} | head -n 1 | cut -d' ' -f1");

        Assert.Equal(onHost + "\n", inside.Stdout);
    }

    [Fact]
    public async Task ApiSocketServesTheHostsRoutesOnly()
    {
        var (client, id) = await IdleSessionAsync("socket");
        using var _ = client;
        // The computer's one way to the API: on Docker the socket mounted at /run/raworc; on Swarm the computer port, at the
        // API's address on the nodes' network (Computers:ApiUrl), which answers the same routes only.
        var api = fixture.OnSwarm ? fixture.ComputerApiUrl.TrimEnd('/') : "--unix-socket /run/raworc/api.sock http://raworc-api";
        string Curl(string method, string path, string? body = null) =>
            $"curl -s -o /dev/null -w '%{{http_code}}' -X {method} -H 'Content-Type: application/json' "
            + (body is null ? "" : $"-d '{body}' ") + $"{api}{path}";

        var login = await fixture.RunInsideAsync(id, Curl("POST", "/api/v0/operators/admin/login", $"{{\"pass\":\"{RaworcAppFixture.AdminPassword}\"}}"));
        var version = await fixture.RunInsideAsync(id, Curl("GET", "/api/v0/version"));
        var health = await fixture.RunInsideAsync(id, Curl("GET", "/health"));
        var sessions = await fixture.RunInsideAsync(id, Curl("GET", "/api/v0/sessions"));
        var messagesWithoutToken = await fixture.RunInsideAsync(id, Curl("GET", $"/api/v0/sessions/{id}/messages"));

        Assert.Equal(("404", "404", "404", "404", "401"),
            (login.Stdout, version.Stdout, health.Stdout, sessions.Stdout, messagesWithoutToken.Stdout));
        // The same login over the API's own port succeeds: what the socket refuses is refused there, not everywhere.
        Assert.False(string.IsNullOrEmpty(await fixture.LoginAsync("admin", RaworcAppFixture.AdminPassword)));
    }

    [Fact]
    [OnlyProvider("docker", "the computer socket is mounted into the single engine's computers only, and bounds connections per computer by the peer process; Swarm computers reach the API by the computer port, bounded per source address, a node (ComputerPortConnectionLimitTests)")]
    public async Task OneComputerCannotTakeTheSocketsConnectionsFromTheOthers()
    {
        var (hogClient, hog) = await IdleSessionAsync("hog");
        var key = ComputersAppFixture.NewModelKey();
        var (client, neighbour) = await IdleSessionAsync("neighbour", key);
        using var _ = hogClient;
        using var __ = client;

        // 300 connections held open for a minute. Before, every one stayed open, and enough of them (the API's open-files
        // limit) made the API stop answering and then exit.
        var held = await HoldConnectionsAsync(hog, rounds: 300, """
                s.connect("/run/raworc/api.sock")
            """);

        // Meanwhile the neighbour's Host still reaches the API: it answers a message.
        fixture.Model.EnqueueFor(key, ScriptStep.Answer("still here"));
        await client.PostOkAsync($"/api/v0/sessions/{neighbour}/messages", new { content = "are you there?" });
        var messages = await client.WaitForMessagesAsync(neighbour, m => m.HasResponse(), TimeSpan.FromSeconds(60));

        // At most 64 per computer (Computers:SocketConnectionsPerComputer), less what the hog's own agent holds.
        Assert.InRange(held, 56, 64);
        Assert.Equal("still here", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
    }

    [Fact]
    [OnlyProvider("docker", "the computer socket is mounted into the single engine's computers only, and bounds connections per computer by the peer process; Swarm computers reach the API by the computer port, bounded per source address, a node (ComputerPortConnectionLimitTests)")]
    public async Task ConnectionsOpenedByProcessesThatExitStillCountAgainstTheirComputer()
    {
        var (client, hog) = await IdleSessionAsync("forker");
        using var _ = client;

        // Each connection is made by a child that exits at once (half of them reaped, half left as zombies) while the
        // parent keeps the socket: by the time the API looked up the connecting process it was gone, and such connections
        // were counted under keys of their own (found by a break-out attempt: ~190 of 300 held open against a bound of 64).
        // 160 rounds, not 300: at that share ~100 would stay open, and each fork costs up to 300 ms under gVisor (README).
        var held = await HoldConnectionsAsync(hog, rounds: 160, """
                pid = os.fork()
                if pid == 0:
                    s.connect("/run/raworc/api.sock")
                    os._exit(0)
                if i % 2 == 0:
                    os.waitpid(pid, 0)
            """);

        // Whatever the API could still tell to be this computer's (a child alive when it was accepted) is within its 64.
        Assert.InRange(held, 0, 64);
    }

    /// <summary>
    /// Runs, detached inside <paramref name="id"/>'s computer, a loop of <paramref name="rounds"/> rounds that each make a
    /// Unix socket <c>s</c> and run <paramref name="connect"/> (Python, indented for the loop's body; round number <c>i</c>),
    /// keeping every socket for a minute; returns how many of them the API had left open 2 s after the last.
    /// </summary>
    private async Task<int> HoldConnectionsAsync(Guid id, int rounds, string connect)
    {
        var hold = $$"""
            python3 -c '
            import os, select, socket, time
            held = []
            for i in range({{rounds}}):
                s = socket.socket(socket.AF_UNIX)
            {{connect}}
                held.append(s)
            time.sleep(2)
            readable, _, _ = select.select(held, [], [], 0)
            closed = sum(1 for s in readable if s.recv(1) == b"")
            print(len(held) - closed, flush=True)
            time.sleep(60)
            ' > /tmp/held.txt 2>&1
            """;
        await fixture.RunInsideAsync(id, $"(setsid bash -c {ShellQuote(hold)} &)");
        string held = "";
        // Forks take a while under gVisor on a loaded machine (300 took 113 s in CI once): the count is waited for, not timed.
        await Waits.UntilAsync(async () => (held = (await fixture.RunInsideAsync(id, "cat /tmp/held.txt")).Stdout.Trim()).Length > 0,
            "the count of connections left open", TimeSpan.FromSeconds(240));
        return int.Parse(held, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string ShellQuote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [Fact]
    public async Task CodeInTheComputerCannotFindTheHostToken()
    {
        var (client, id) = await IdleSessionAsync("thief");
        using var _ = client;
        var agent = (await fixture.RunInsideAsync(id, "pgrep -f /usr/local/bin/raworc-host-agent | head -n 1")).Stdout.Trim();
        Assert.Matches("^[0-9]+$", agent);

        // Every place a process of the same user could look: the environment of every process, the agent's memory,
        // the session's files (where the token arrived), and what the entry point was given.
        var environ = await fixture.RunInsideAsync(id, "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'");
        var memory = await fixture.RunInsideAsync(id, $"head -c 1 /proc/{agent}/mem; echo \" exit=$?\"");
        var files = await fixture.RunInsideAsync(id, "grep -rIl 'eyJ' /session /tmp /home/raworc 2>/dev/null; ls -A /session/.raworc");
        // The .NET diagnostic socket would let a process of the same user read the agent's environment or load code into it.
        var diagnostics = await fixture.RunInsideAsync(id, "ls -A /tmp; echo end");

        Assert.Contains($"RAWORC_SESSION_ID={id}", environ.Stdout);
        Assert.DoesNotContain("eyJ", environ.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("RAWORC_HOST_TOKEN=", environ.Stdout, StringComparison.Ordinal);
        Assert.Equal(" exit=1\n", memory.Stdout);
        Assert.Equal("", files.Stdout);
        Assert.Equal("end\n", diagnostics.Stdout);
    }

    [Fact]
    [OnlyProvider("docker", "the boot ticket is the Docker provider's (IComputerProvider.BootsWithTicket); a Swarm computer gets its Host token in a file of its volume, which the agent deletes before any of the session's code runs (SessionComputersTests)")]
    public async Task CodeInTheComputerCannotExchangeTheBootTicketAgain()
    {
        // The session's first code, setup.sh, runs while the session is still init and its start deadline ahead: the best
        // moment for a replay. The agent took the ticket out of its own environment, but the init process (PID 1, the same
        // user, dumpable) keeps the one the computer was started with, so the session's code can always find it there.
        const string Replay = """
            ticket=$(tr '\0' '\n' < /proc/1/environ | sed -n 's/^RAWORC_BOOT_TICKET=//p')
            printf '%s' "$ticket" > /session/data/ticket
            curl -s -w '\n%{http_code}' --unix-socket /run/raworc/api.sock -X POST -H 'Content-Type: application/json' \
              -d "{\"session_id\":\"$RAWORC_SESSION_ID\",\"ticket\":\"$ticket\",\"seed\":true}" \
              http://raworc-api/api/v0/boot > /session/data/replay
            """;
        var key = ComputersAppFixture.NewModelKey();
        var (_, client) = await fixture.CreateOperatorAsync("replayer");
        using var _ = client;
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = key }, setup = Replay })).Id();
        await client.WaitForStateAsync(id, "idle");

        // Exchanged once already, by the agent before setup.sh ran: the second exchange (seed files asked for too, through
        // the socket as the agent made the first) is refused and hands over nothing; so is a third once the session is idle.
        const string Refused = """{"error":{"code":"FORBIDDEN","message":"The boot ticket is not valid: already exchanged, past its computer's start deadline, or not of its session's current start."}}""";
        var files = await fixture.Probe.ReadVolumeAsync(id);
        Assert.Matches("^[A-Za-z0-9_-]{43}$", files["data/ticket"].Text);
        Assert.Equal(Refused + "\n403", files["data/replay"].Text);
        var late = await fixture.RunInsideAsync(id,
            "curl -s -w '\\n%{http_code}' --unix-socket /run/raworc/api.sock -X POST -H 'Content-Type: application/json' "
            + $"-d '{{\"session_id\":\"{id}\",\"ticket\":\"{files["data/ticket"].Text}\",\"seed\":true}}' http://raworc-api/api/v0/boot");
        Assert.Equal(Refused + "\n403", late.Stdout);

        // The agent's own Host token still works: the refusals spent nothing of this start.
        fixture.Model.EnqueueFor(key, ScriptStep.Answer("still here"));
        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "are you there?" });
        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(60));
        Assert.Equal("still here", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
    }

    [Fact]
    public async Task CodeInTheComputerFloodingTheApiWithoutATokenIsRateLimitedAndItsHostStillAnswers()
    {
        // Requests without a token from a computer (a guessed boot ticket, a Host route without a Host token) used to have no
        // limit: only an authenticated principal has a bucket, and the boot exchange is anonymous, one database read each.
        // The session's code sends 1,000 guesses over one kept-alive connection, through the socket or, on Swarm, the
        // computer port.
        const string Flood = """
            python3 -c '
            import http.client, json, os, socket, urllib.parse
            class Unix(http.client.HTTPConnection):
                def connect(self):
                    self.sock = socket.socket(socket.AF_UNIX)
                    self.sock.connect("/run/raworc/api.sock")
            url = urllib.parse.urlsplit(os.environ["RAWORC_API_URL"])
            api = Unix("raworc-api") if os.path.exists("/run/raworc/api.sock") else http.client.HTTPConnection(url.hostname, url.port)
            guess = json.dumps({"session_id": os.environ["RAWORC_SESSION_ID"], "ticket": "guessed"})
            codes, refusal = [], None
            for _ in range(1000):
                api.request("POST", "/api/v0/boot", guess, {"Content-Type": "application/json"})
                response = api.getresponse()
                body = response.read().decode()
                codes.append(response.status)
                if response.status == 429 and refusal is None:
                    refusal = (response.getheader("Retry-After"), body)
            first = next((i for i, code in enumerate(codes) if code != 403), len(codes))
            print(first, codes.count(403), codes.count(429), len(codes) - codes.count(403) - codes.count(429))
            print(refusal[0] if refusal else None)
            print(refusal[1] if refusal else None)
            '
            """;
        var key = ComputersAppFixture.NewModelKey();
        var (client, id) = await IdleSessionAsync("flooder", key);
        using var _ = client;

        var flood = await fixture.RunInsideAsync(id, Flood, TimeSpan.FromMinutes(3));

        // The bucket of a computer's requests without a token holds RateLimits:ComputerAnonymousRequestBurst (20 here, the
        // default) and refills 10 a second: the first 20 guesses reach the ticket check (403), and 1,000 sent as fast as one
        // connection goes cannot all be refilled, so the rest alternate between the few refilled and 429 RATE_LIMITED.
        var lines = flood.Stdout.Split('\n');
        var counts = lines[0].Split(' ').Select(int.Parse).ToArray();
        Assert.True(counts[0] >= 20 && counts[2] > 0 && counts[3] == 0, flood.Stdout + flood.Stderr);
        Assert.Equal(1000, counts[1] + counts[2]);
        Assert.Equal("1", lines[1]);
        Assert.Equal("""{"error":{"code":"RATE_LIMITED","message":"Too many requests without a token from this computer; slow down."}}""", lines[2]);

        // Its Host has a bucket of its own (its token's): the flood cost it nothing.
        fixture.Model.EnqueueFor(key, ScriptStep.Answer("still answering"));
        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "are you there?" });
        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(60));
        Assert.Equal("still answering", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
    }

    [Fact]
    public async Task CodeInTheComputerCannotTraceTheAgentNorReadItsMemoryNorItsFiles()
    {
        // The engine's host has no Yama ptrace restriction: only the agent's non-dumpability keeps a process of the same
        // user from attaching to it (and then reading the Host token out of its memory).
        var (client, id) = await IdleSessionAsync("tracer");
        using var _ = client;
        var agent = (await fixture.RunInsideAsync(id, "pgrep -f /usr/local/bin/raworc-host-agent | head -n 1")).Stdout.Trim();
        Assert.Matches("^[0-9]+$", agent);

        var attempt = await fixture.RunInsideAsync(id, $$"""
            python3 -c '
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            pid = {{agent}}
            class IoVec(ctypes.Structure):
                _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]
            buffer = ctypes.create_string_buffer(16)
            local = IoVec(ctypes.cast(buffer, ctypes.c_void_p), 16)
            remote = IoVec(0x400000, 16)
            readv = libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
            print("process_vm_readv", readv, os.strerror(ctypes.get_errno()) if readv < 0 else "")
            attach = libc.ptrace(16, pid, None, None)
            print("ptrace_attach", attach, os.strerror(ctypes.get_errno()) if attach < 0 else "")
            for path in ("fd", "maps", "mem"):
                try:
                    os.listdir(f"/proc/{pid}/{path}") if path == "fd" else open(f"/proc/{pid}/{path}", "rb").read(1)
                    print(path, "read")
                except OSError as error:
                    print(path, error.strerror)
            '
            """);

        // Under gVisor the agent's open files can be listed (and opened) and its memory map read, unlike under runc
        // (README, gVisor): the agent keeps no secret in a file it holds open; what counts is that its memory stays shut.
        Assert.Equal(TestRuntime.Name == "runsc"
            ? "process_vm_readv -1 Function not implemented\nptrace_attach -1 Operation not permitted\n"
                + "fd read\nmaps read\nmem Permission denied\n"
            : "process_vm_readv -1 Operation not permitted\nptrace_attach -1 Operation not permitted\n"
                + "fd Permission denied\nmaps Permission denied\nmem Permission denied\n", attempt.Stdout);
    }

    [Fact]
    public async Task ForkBombStopsAtThePidsLimitAndTheHostKeepsAnswering()
    {
        var key = ComputersAppFixture.NewModelKey();
        var neighbourKey = ComputersAppFixture.NewModelKey();
        var (client, id) = await IdleSessionAsync("forker", key);
        var (neighbour, neighbourId) = await IdleSessionAsync("neighbour", neighbourKey);
        using var _ = client;
        using var __ = neighbour;

        // The Host's own bash tool runs a bomb: a process of its own (so the command returns) forks 32 `sleep` processes
        // that live for 10 minutes, then takes every slot left with threads (the limit counts both), then tries 100 more
        // forks, reports, and for up to 5 minutes more takes every slot that frees, as a real bomb does; the test closes
        // the session at its end. Threads fill the slots because a fork under gVisor costs 50-300 ms on some machines
        // (measured inside a computer of 0.5 CPU), so a bomb of ~450 forks outlasted the bash tool's 120 s there. Python's
        // fork fails at once at the limit (bash's would retry). Small processes: under gVisor a burst of large ones meets
        // the memory limit first, which ends the whole computer (README, gVisor). At most 511 start besides what already
        // runs. While the bomb holds every slot the tools can reach, the Host must still answer and run another command
        // (a process and threads of its own), and the Host of another session must answer.
        const string bomb = """
            python3 -c '
            import os, sys, threading, time
            read, write = os.pipe()
            if os.fork() > 0:
                os.close(write)
                print(os.read(read, 200).decode())
                sys.exit(0)
            os.setsid()
            null = os.open("/dev/null", os.O_WRONLY); os.dup2(null, 0); os.dup2(null, 1); os.dup2(null, 2)
            threading.stack_size(256 * 1024)
            def sleeper():
                try:
                    pid = os.fork()
                except OSError:
                    return False
                if pid == 0:
                    try:
                        os.execv("/bin/sleep", ["sleep", "600"])
                    finally:
                        os._exit(1)
                return True
            def thread():
                try:
                    threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
                except RuntimeError:
                    return False
                return True
            forked = sum(sleeper() for _ in range(32))
            threads = sum(thread() for _ in range(2000 - 32))
            late = sum(sleeper() for _ in range(100))
            with open("/tmp/bomb.pid", "w") as file:
                file.write(str(os.getpid()))
            os.write(write, f"forked={forked} threads={threads} failed={2000 - forked - threads} late={late}".encode())
            os.close(write)
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                sleeper() or time.sleep(0.01)
            '
            """;
        // Counts what the bomb holds (its `sleep` processes and its threads past the first) with bash builtins only: the
        // tools may have no process left to start.
        const string countTaken = """n=0; for f in /proc/[0-9]*/cmdline; do c=; read -r -d '' c < "$f" 2>/dev/null; [ "$c" = sleep ] && n=$((n + 1)); done; read -r bomb < /tmp/bomb.pid; for t in /proc/$bomb/task/[0-9]*; do n=$((n + 1)); done; echo "taken=$((n - 1))" """;
        fixture.Model.EnqueueFor(key,
            ScriptStep.CallTool("bash", new System.Text.Json.Nodes.JsonObject { ["command"] = bomb }),
            ScriptStep.Answer(request => request.ToolResults[^1]),
            ScriptStep.CallTool("bash", new System.Text.Json.Nodes.JsonObject { ["command"] = countTaken }),
            ScriptStep.Answer(request => request.ToolResults[^1]));
        fixture.Model.EnqueueFor(neighbourKey, ScriptStep.Answer("next door"));
        System.Text.Json.Nodes.JsonArray first, messages, nextDoor;
        try
        {
            await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "fork" });
            first = await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(120));
            await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "are you alive?" });
            await neighbour.PostOkAsync($"/api/v0/sessions/{neighbourId}/messages", new { content = "hello" });
            messages = await client.WaitForMessagesAsync(id, m => m.Count(x => (string?)x!["metadata"]?["type"] == "response") == 2);
            nextDoor = await neighbour.WaitForMessagesAsync(neighbourId, m => m.HasResponse());
        }
        finally
        {
            // Ends the bomb with the computer.
            await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        }

        var report = (string)first.Single(m => (string?)m!["metadata"]?["type"] == "response")!["content"]!;
        var figures = System.Text.RegularExpressions.Regex.Match(report, @"forked=(\d+) threads=(\d+) failed=(\d+) late=(\d+)");
        Assert.True(figures.Success, report);
        int Figure(int group) => int.Parse(figures.Groups[group].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(32, Figure(1));
        var started = Figure(1) + Figure(2);
        Assert.InRange(started, 33, 511);
        Assert.Equal(2000 - started, Figure(3));
        // At the limit a fork fails too, at once.
        Assert.Equal(0, Figure(4));
        var second = (string)messages.Last(m => (string?)m!["role"] == "host")!["content"]!;
        var taken = System.Text.RegularExpressions.Regex.Match(second, @"taken=(\d+)\n");
        Assert.True(taken.Success, second);
        // The bomb's first burst, and the slots it took as they freed (its first process and the command's ending).
        Assert.InRange(int.Parse(taken.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), started, 511);
        Assert.Equal("next door", (string?)nextDoor.Last(m => (string?)m!["role"] == "host")!["content"]);
    }

    [Fact]
    public async Task FillingTheScratchAndHomeFoldersAfterATurnClosesTheSessionWithAMessageSayingWhy()
    {
        // /tmp and the home folder are in memory and together as large as the computer's memory (256 + 256 MiB of 512). The
        // Host's own bash tool leaves a process behind that fills both once the turn has ended, which ends the computer while
        // its session is idle. Before, the session then showed `closed` with no error and no message (found by a break-out
        // attempt). During a turn the same ends the session `errored`, with the exit code as its error.
        var key = ComputersAppFixture.NewModelKey();
        var (client, id) = await IdleSessionAsync("filler", key);
        using var _ = client;
        const string fill = "(setsid bash -c 'sleep 3; head -c 255M /dev/zero > /tmp/fill; head -c 255M /dev/zero > ~/fill' >/dev/null 2>&1 &); echo later";
        fixture.Model.EnqueueFor(key, ScriptStep.CallTool("bash", new System.Text.Json.Nodes.JsonObject { ["command"] = fill }),
            ScriptStep.Answer("done"));

        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "Fill them." });
        await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(120));
        var session = await client.WaitForStateAsync(id, "closed", TimeSpan.FromSeconds(120));
        var messages = await client.GetMessagesAsync(id.ToString());

        var notice = Assert.Single(messages, m => (string?)m!["role"] == "system")!;
        Assert.Equal("The computer stopped unexpectedly (exit code 137). It ran out of memory: what is in /tmp and the home folder is held"
            + " in memory and counts against the computer's memory limit. The session's files are kept; a message or a restore starts a new computer.",
            (string?)notice["content"]);
        Assert.Equal("""{"type":"computer_stopped","exit_code":137,"out_of_memory":true}""", notice["metadata"]!.ToJsonString());
        Assert.Null((string?)session["error"]);
    }

    [Fact]
    public async Task ReadOnlySystemLeavesTheSessionScratchAndHomeWritable()
    {
        var (client, id) = await IdleSessionAsync("writer");
        using var _ = client;

        var result = await fixture.RunInsideAsync(id, string.Join("; ",
            "touch /usr/local/bin/x 2>/dev/null; echo usr=$?",
            "touch /etc/x 2>/dev/null; echo etc=$?",
            "touch /tmp/x; echo tmp=$?",
            "mkdir -p ~/.local/lib && touch ~/.local/lib/x; echo home=$?",
            "git init -q /tmp/origin && git -C /tmp/origin -c user.email=a@b -c user.name=a commit -q --allow-empty -m first"
                + " && git clone -q /tmp/origin /session/code/clone; echo clone=$?",
            "python3 -c 'import site; print(site.getusersitepackages())'"));

        Assert.Equal("usr=1\netc=1\ntmp=0\nhome=0\nclone=0\n/home/raworc/.local/lib/python3.11/site-packages\n", result.Stdout);
    }

    [Fact]
    [OnlyProvider("docker", "volume filesystems are made by the API on the engine's machine; a Swarm node's volumes are measured")]
    public async Task AComputerCannotTakeMoreDiskThanItsLimitNotEvenAllAtOnce()
    {
        // Found by a break-out attempt: the limit was measured after the fact, and fallocate -l 12G took 0.1 s, so one
        // computer could fill the host's disk (and stop Postgres and the engine writing) between two measurements.
        var (client, id) = await IdleSessionAsync("allocator");
        using var _ = client;
        var name = DockerComputerProvider.NameOf(id);
        var image = VolumeFileSystems.ImageOf(ComputerOptions.DefaultVolumeFileSystemsPath, name);

        var fill = await fixture.RunInsideAsync(id, $"fallocate -l {ComputersAppFixture.MaxVolumeMiB + 16}MiB /session/data/big; echo $?");
        Assert.Equal("1\n", fill.Stdout);
        Assert.Equal("fallocate: fallocate failed: No space left on device\n", fill.Stderr);
        // On the host the volume takes what was written into its filesystem, which is at most the limit.
        Assert.InRange(AllocatedBytes(image), 1, ComputersAppFixture.MaxVolumeMiB * 1024L * 1024L);

        // A full volume is a full disk to the session's code, not the end of the session: room made, a write fits again.
        var after = await fixture.RunInsideAsync(id, "rm /session/data/big && head -c 1048576 /dev/zero > /session/data/small; echo $?");
        Assert.Equal("0\n", after.Stdout);
        // What the session frees goes back to the host's disk (the filesystem is mounted with discard): before, the file
        // kept the most ever written into it.
        Assert.Equal("0\n", (await fixture.RunInsideAsync(id, "head -c 33554432 /dev/urandom > /session/data/noise && sync; echo $?")).Stdout);
        var written = AllocatedBytes(image);
        Assert.Equal("0\n", (await fixture.RunInsideAsync(id, "rm /session/data/noise && sync; echo $?")).Stdout);
        // The loop device punches the holes after the journal's commit, on its own time.
        await Waits.UntilAsync(() => Task.FromResult(written - AllocatedBytes(image) >= 31 * 1024L * 1024L),
            "the 32 MiB deleted are given back to the host's disk");
        Assert.Equal(1024 * 1024, (await fixture.Probe.ReadVolumeAsync(id))["data/small"].Content.Length);
        Assert.Equal("idle", (string?)(await client.GetSessionAsync(id.ToString()))["state"]);
    }

    [Fact]
    [OnlyProvider("docker", "volume filesystems are made by the API on the engine's machine; a Swarm node's volumes are measured")]
    public async Task AnOwnerWhoseSessionsHoldItsDiskQuotaStartsNoOtherUntilItDeletesOne()
    {
        // Before, nothing bounded an owner's disk in all: fill a session, close it, create the next, until the host's disk
        // was full (closed sessions keep their files and hold no live-session quota).
        var (name, client) = await fixture.CreateOperatorAsync("hoarder");
        using var _ = client;
        var first = await FilledSessionAsync(client);
        // 45 MiB held, under the 80: the owner may start another, which fills as much.
        var second = await FilledSessionAsync(client);
        await client.PostOkAsync($"/api/v0/sessions/{first}/close");
        await client.WaitForStateAsync(first, "closed");
        var images = new[] { first, second }.Select(id => VolumeFileSystems.ImageOf(ComputerOptions.DefaultVolumeFileSystemsPath,
            DockerComputerProvider.NameOf(id))).ToArray();

        var before = images.Sum(AllocatedBytes);
        var create = await client.PostAsync("/api/v0/sessions", Http.Json(new { }));
        var restore = await client.PostAsync($"/api/v0/sessions/{first}/restore", Http.Json(new { }));
        var after = images.Sum(AllocatedBytes);

        foreach (var refused in new[] { create, restore })
        {
            var message = (string)(await refused.AssertErrorAsync(409, "CONFLICT"))["message"]!;
            var held = System.Text.RegularExpressions.Regex.Match(message, $"^'{System.Text.RegularExpressions.Regex.Escape(name)}'s sessions take (\\d+) MiB of disk, the most allowed is "
                + $"{ComputersAppFixture.MaxDiskMiBPerOperator} MiB \\(Sessions:MaxDiskMiBPerOperator\\); delete sessions or files in them first\\.$");
            Assert.True(held.Success, message);
            // What the two filesystems' files held on the host when it was asked (the journal's commits move it a little).
            Assert.InRange(long.Parse(held.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                Raworc.ApiService.Sessions.SessionQuotas.DiskMiB(Math.Min(before, after)), Raworc.ApiService.Sessions.SessionQuotas.DiskMiB(Math.Max(before, after)));
        }
        // Nothing was stored: no third session, the first still closed.
        Assert.Equal("2", (await client.GetAsync("/api/v0/sessions")).Headers.GetValues("X-Total-Count").Single());
        Assert.Equal("closed", (string?)(await client.GetSessionAsync(first.ToString()))["state"]);

        // A deleted session's filesystem is gone from the host, and with it the owner's room comes back.
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v0/sessions/{second}")).StatusCode);
        await Waits.UntilAsync(() => Task.FromResult(!File.Exists(images[1])), "the deleted session's filesystem removed");
        await client.PostOkAsync($"/api/v0/sessions/{first}/restore");
        await client.WaitForStateAsync(first, "idle", TimeSpan.FromSeconds(ComputersAppFixture.StartDeadlineSeconds + 15));
    }

    [Fact]
    [OnlyProvider("docker", "volume filesystems are made by the API on the engine's machine; a Swarm node's volumes are measured")]
    public async Task ARemixClosedWhileItsCopyRunsStillCountsAgainstItsOwnersDiskQuota()
    {
        // Found by a break-out attempt: the quota counted only volumes a session's row recorded, and a remix's child closed
        // while its copy ran keeps the whole copy but never records one (it never starts a computer), so an owner could
        // remix and close without end.
        var (name, client) = await fixture.CreateOperatorAsync("copier");
        using var _ = client;
        // 45 MiB, and 6,000 small files so that the copy runs long enough to be closed in its middle.
        var parent = await FilledSessionAsync(client, "mkdir /session/data/many && for i in $(seq 6000); do echo $i > /session/data/many/$i; done");

        var child = (await client.PostOkAsync($"/api/v0/sessions/{parent}/remix", new { })).Id();
        var copier = $"raworc-copy-{child:D}";
        async Task<bool> CopyingAsync() => (await fixture.Docker.Containers.ListContainersAsync(new Docker.DotNet.Models.ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["name"] = new Dictionary<string, bool> { [copier] = true } },
        })).Count > 0;
        await Waits.UntilAsync(CopyingAsync, "the child's copy running");
        var closed = await client.PostOkAsync($"/api/v0/sessions/{child}/close");
        Assert.Equal("closed", (string?)closed["state"]);
        await Waits.UntilAsync(async () => !await CopyingAsync(), "the child's copy finished");
        // The copy was made and no volume recorded: the case the count missed.
        var image = VolumeFileSystems.ImageOf(ComputerOptions.DefaultVolumeFileSystemsPath, DockerComputerProvider.NameOf(child));
        Assert.InRange(AllocatedBytes(image), 45L * 1024 * 1024, ComputersAppFixture.MaxVolumeMiB * 1024L * 1024);
        Assert.Null((string?)(await client.GetSessionAsync(child.ToString()))["persistent_volume_id"]);

        var refused = await client.PostAsync("/api/v0/sessions", Http.Json(new { }));
        var message = (string)(await refused.AssertErrorAsync(409, "CONFLICT"))["message"]!;
        Assert.StartsWith($"'{name}'s sessions take ", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AComputerCannotHoldTheHostsTcpMemoryPastItsBound()
    {
        // Found by a break-out attempt: under cgroup v1 a computer's memory limit did not count its TCP buffers, and one
        // process held 1,026 MiB of loopback TCP data in a computer of 512 MiB, taken from the host and from the TCP budget
        // every socket on it shares. Sixty connections to itself, each sent to until the kernel takes no more, never read.
        var (client, id) = await IdleSessionAsync("buffers");
        using var _ = client;
        var before = HostTcpMemoryBytes();
        Assert.Equal("started\n", (await fixture.RunInsideAsync(id, FilledConnectionsScript(processes: 1, pairs: 60))).Stdout);
        string said = "";
        await Waits.UntilAsync(async () => (said = (await fixture.RunInsideAsync(id, "cat /tmp/hold.1.out")).Stdout).StartsWith("queued ", StringComparison.Ordinal),
            "the computer's connections filled");
        var held = HostTcpMemoryBytes() - before;
        await fixture.RunInsideAsync(id, "pkill -f /tmp/hold.py");

        // The computer's bound (Computers:TcpMemoryMiB, 64 by default) holds it, under runc and runsc (whose sandbox uses the
        // host's network stack here: 228 MiB without the bound). Beside it, other tests' sockets move the host's figure by a
        // few MiB.
        const long MiB = 1024 * 1024;
        Assert.True(held < (new ComputerOptions().TcpMemoryMiB + 16) * MiB, $"the host's TCP memory rose by {held / MiB} MiB; the computer said: {said}");
    }

    [Fact]
    [OnlyProvider("docker", "the API reads a computer's TCP memory from its cgroup on the engine's machine")]
    public async Task AComputerPastItsTcpBoundByManyConnectionsIsClosedAndItsSocketsFreed()
    {
        // Found by a break-out attempt: the kernel lets every connection past the computer's TCP bound by about one packet's
        // buffer, and 8,000 connected pairs, each sent to until the kernel took no more, held 624 MiB against a bound of 64.
        // Two processes of 1,800 pairs here (the computer's 4,096 open files each) held 314 MiB without the limit.
        var (client, id) = await IdleSessionAsync("connections");
        using var _ = client;
        var before = HostTcpMemoryBytes();
        Assert.Equal("started\n", (await fixture.RunInsideAsync(id, FilledConnectionsScript(processes: 2, pairs: 1800))).Stdout);

        var notice = await ClosedNoticeAsync(client, id, TimeSpan.FromSeconds(120));
        var used = (long)notice["metadata"]!["used_mib"]!;
        // Past the limit, by what the two processes queued since the last measurement; at most all they can hold (314 MiB
        // measured, and a few MiB for the sizes of packets).
        Assert.InRange(used, ComputersAppFixture.MaxTcpMemoryMiB, 330);
        Assert.Equal($$"""{"type":"tcp_memory_limit","used_mib":{{used}},"limit_mib":{{ComputersAppFixture.MaxTcpMemoryMiB}}}""",
            notice["metadata"]!.ToJsonString());
        Assert.Equal(NetworkUseLimit.Text(used, ComputersAppFixture.MaxTcpMemoryMiB), (string?)notice["content"]);
        // The close took the computer and its sockets with it: the host's TCP memory is back where it was, but for other
        // tests' sockets (a few MiB).
        await Waits.UntilAsync(async () => (await fixture.Docker.Containers.ListContainersAsync(new Docker.DotNet.Models.ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["name"] = new Dictionary<string, bool> { [DockerComputerProvider.NameOf(id)] = true } },
        })).Count == 0, "the closed session's computer removed");
        const long MiB = 1024 * 1024;
        Assert.True(HostTcpMemoryBytes() - before < 16 * MiB, $"the host's TCP memory is {(HostTcpMemoryBytes() - before) / MiB} MiB above where it was");
    }

    [Fact]
    [OnlyProvider("docker", "the API reads a computer's network namespace on the engine's machine")]
    public async Task AComputerHoldingDataOnConnectionsNeverAcceptedIsClosedByItsSocketCount()
    {
        // Found by a break-out attempt: the data of connections waiting to be accepted is charged to no cgroup, and
        // 4 processes × 3,500 such connections of 64 KiB each held 930 MiB of the host's TCP memory while the computer's
        // figure read 9 MiB. Here four processes of 2,100 connections each, never accepted: up to 16,800 sockets and their
        // listeners, past the default bound of 8,192 (under gVisor each listener holds ~1,026 waiting, so ~12,500).
        var (client, id) = await IdleSessionAsync("waiting");
        using var _ = client;
        var started = await fixture.RunInsideAsync(id, """
            cat > /tmp/waiting.py <<'PY'
            import socket, time
            server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen(4096)
            held = []
            for _ in range(2100):
                sender = socket.socket(); sender.setblocking(False)
                sender.connect_ex(server.getsockname()); held.append(sender)
            time.sleep(1)
            for sender in held:
                try:
                    sender.send(b'x' * 65536)
                except OSError:
                    pass
            time.sleep(600)
            PY
            for i in 1 2 3 4; do (setsid python3 /tmp/waiting.py > /dev/null 2>&1 &); done
            echo started
            """);
        Assert.Equal("started\n", started.Stdout);

        var notice = await ClosedNoticeAsync(client, id, TimeSpan.FromSeconds(120));
        var sockets = (long)notice["metadata"]!["tcp_sockets"]!;
        var limit = new ComputerOptions().MaxTcpSockets;
        // Past the bound, at most every socket the four processes make (4 × 2,100 pairs and 4 listeners) and the few of the
        // computer's own (one, measured).
        Assert.InRange(sockets, limit + 1, 16_812);
        Assert.Equal($$"""{"type":"tcp_sockets_limit","tcp_sockets":{{sockets}},"limit_tcp_sockets":{{limit}}}""", notice["metadata"]!.ToJsonString());
        Assert.Equal(NetworkUseLimit.SocketsText(sockets, limit), (string?)notice["content"]);
    }

    [Fact]
    [OnlyProvider("docker", "the API reads a computer's network namespace on the engine's machine")]
    public async Task AComputerFillingItsOwnConnectionTrackingTableIsClosed()
    {
        // Found by a break-out attempt: loopback UDP to many ports filled the computer's own connection-tracking table to
        // the host's nf_conntrack_max, 262,142 entries and ~64 MiB of kernel memory charged to no cgroup, in 4.5 s.
        var (client, id) = await IdleSessionAsync("tracked");
        using var _ = client;
        var started = await fixture.RunInsideAsync(id, """
            (setsid python3 -c '
            import socket, time
            sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for port in range(1, 30001):
                sender.sendto(b"x", ("127.0.0.1", port))
            time.sleep(600)' </dev/null >/dev/null 2>&1 &)
            echo started
            """);
        Assert.Equal("started\n", started.Stdout);

        var notice = await ClosedNoticeAsync(client, id, TimeSpan.FromSeconds(120));
        var entries = (long)notice["metadata"]!["tracked_connections"]!;
        const int Limit = ComputersAppFixture.MaxTrackedConnections;
        // Past the bound, at most one entry per port sent to and a few of the computer's own (its DNS, say).
        Assert.InRange(entries, Limit + 1, 30_100);
        Assert.Equal($$"""{"type":"tracked_connections_limit","tracked_connections":{{entries}},"limit_tracked_connections":{{Limit}}}""",
            notice["metadata"]!.ToJsonString());
        Assert.Equal(NetworkUseLimit.TrackedText(entries, Limit), (string?)notice["content"]);
    }

    /// <summary>
    /// Waits (at most <paramref name="timeout"/>) until the platform has closed the session by itself, and returns the one
    /// <c>system</c> message that says why.
    /// </summary>
    private static async Task<JsonNode> ClosedNoticeAsync(HttpClient client, Guid id, TimeSpan timeout)
    {
        await client.WaitForStateAsync(id, "closed", timeout);
        return Assert.Single(await client.GetMessagesAsync(id.ToString()), m => (string?)m!["role"] == "system")!;
    }

    /// <summary>
    /// A script that starts <paramref name="processes"/> processes in the background, each making <paramref name="pairs"/>
    /// loopback connections to itself and sending to each until the kernel takes no more, never reading; process <c>i</c>
    /// writes <c>queued &lt;bytes&gt;</c> to <c>/tmp/hold.i.out</c> once all are full, then holds them for ten minutes. The
    /// script prints <c>started</c>.
    /// </summary>
    private static string FilledConnectionsScript(int processes, int pairs) => $$"""
        cat > /tmp/hold.py <<'PY'
        import socket, sys, time
        server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen(4096)
        held, queued = [], 0
        for _ in range(int(sys.argv[1])):
            sender = socket.socket(); sender.connect(server.getsockname()); held += [sender, server.accept()[0]]
            sender.setblocking(False)
            try:
                while True:
                    queued += sender.send(b'x' * 65536)
            except OSError:
                pass
        print('queued', queued, flush=True)
        time.sleep(600)
        PY
        for i in $(seq {{processes}}); do (setsid python3 /tmp/hold.py {{pairs}} > /tmp/hold.$i.out 2>&1 &); done
        echo started
        """;

    /// <summary>The kernel's TCP memory in use, all sockets of the host together (<c>/proc/net/sockstat</c>, "TCP: … mem" in pages).</summary>
    private static long HostTcpMemoryBytes()
    {
        var fields = File.ReadLines("/proc/net/sockstat").Single(line => line.StartsWith("TCP:", StringComparison.Ordinal)).Split(' ');
        return long.Parse(fields[Array.IndexOf(fields, "mem") + 1], System.Globalization.CultureInfo.InvariantCulture) * Environment.SystemPageSize;
    }

    [Fact]
    [OnlyProvider("docker", "volume filesystems are made by the API on the engine's machine; a Swarm node's volumes are measured")]
    public async Task AComputerCannotMakeMoreFilesThanItsInodeLimit()
    {
        var (client, id) = await IdleSessionAsync("inodes");
        using var _ = client;

        var crowd = await fixture.RunInsideAsync(id,
            $"cd /session/data && mkdir $(seq -f 'f%g' 1 {ComputersAppFixture.MaxVolumeInodes + 2_000}) 2>&1 | sort -u | tail -1; ls | wc -l");
        var lines = crowd.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.EndsWith(": No space left on device", lines[0], StringComparison.Ordinal);
        // ext4 rounds the count given to mkfs to whole block groups (9,984 for 10,000 here, 11 of them its own); the
        // session's layout and the agent's files take a few dozen more.
        Assert.InRange(int.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture),
            ComputersAppFixture.MaxVolumeInodes - 100, ComputersAppFixture.MaxVolumeInodes);
    }

    [Fact]
    [OnlyProvider("docker", "volume filesystems are made by the API on the engine's machine; a Swarm node's volumes are measured")]
    public async Task AVolumeFileSystemUnmountedByARestartOfTheMachineIsMountedAgainWithItsFilesAtTheRestore()
    {
        var (client, id) = await IdleSessionAsync("remount");
        using var _ = client;
        var mountPoint = VolumeFileSystems.MountPointOf(ComputerOptions.DefaultVolumeFileSystemsPath, DockerComputerProvider.NameOf(id));
        Assert.Equal("0\n", (await fixture.RunInsideAsync(id, "echo kept > /session/data/kept; echo $?")).Stdout);
        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        await client.WaitForStateAsync(id, "closed");

        // What a restart of the machine leaves: the filesystem's file, its folder not mounted.
        using (var umount = System.Diagnostics.Process.Start("umount", mountPoint))
        {
            await umount.WaitForExitAsync();
            Assert.Equal(0, umount.ExitCode);
        }
        Assert.False(VolumeFileSystems.IsMounted(mountPoint));
        // Unmounted, the folder takes nothing (it is immutable): a write meant for the volume cannot land on the host's disk.
        Assert.Throws<UnauthorizedAccessException>(() => File.WriteAllText(Path.Combine(mountPoint, "stray"), "x"));

        await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
        await client.WaitForStateAsync(id, "idle", TimeSpan.FromSeconds(ComputersAppFixture.StartDeadlineSeconds + 15));
        Assert.True(VolumeFileSystems.IsMounted(mountPoint));
        Assert.Equal("kept\n", (await fixture.RunInsideAsync(id, "cat /session/data/kept")).Stdout);
    }

    [Fact]
    [OnlyProvider("docker", "volume filesystems are made by the API on the engine's machine; a Swarm node's volumes are measured")]
    public async Task ARestoreAfterTheEnginesRecordOfTheVolumeWasLostKeepsTheSessionsFiles()
    {
        // Found by a break-out attempt: with the engine's volume gone (a `docker volume prune`, a wiped engine) and its
        // filesystem kept, a restore took the filesystem for the leftover of a failed create, made a new one over it, and
        // the session came back idle and empty.
        var (client, id) = await IdleSessionAsync("pruned");
        using var _ = client;
        Assert.Equal("0\n", (await fixture.RunInsideAsync(id, "echo survivor > /session/data/survivor.txt; echo $?")).Stdout);
        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        await client.WaitForStateAsync(id, "closed");
        // The closed computer's container goes a moment after the state (the engine refuses to remove a volume in use).
        await Waits.UntilAsync(async () =>
        {
            try
            {
                await fixture.Docker.Volumes.RemoveAsync(DockerComputerProvider.NameOf(id), force: true);
                return true;
            }
            catch (Docker.DotNet.DockerApiException exception) when (exception.StatusCode is HttpStatusCode.Conflict)
            {
                return false;
            }
        }, "the engine's record of the closed session's volume is removed");

        await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
        await client.WaitForStateAsync(id, "idle", TimeSpan.FromSeconds(ComputersAppFixture.StartDeadlineSeconds + 15));

        Assert.Equal("survivor\n", (await fixture.RunInsideAsync(id, "cat /session/data/survivor.txt")).Stdout);
        var volume = await fixture.Docker.Volumes.InspectAsync(DockerComputerProvider.NameOf(id));
        Assert.Equal(VolumeFileSystems.MountPointOf(ComputerOptions.DefaultVolumeFileSystemsPath, DockerComputerProvider.NameOf(id)),
            volume.Options["device"]);
        Assert.Equal("ext4", volume.Labels[DockerComputerProvider.FileSystemLabel]);
    }

    [Fact]
    [OnlyProvider("docker", "volume filesystems are made by the API on the engine's machine; a Swarm node's volumes are measured")]
    public async Task ARemixKeepsItsParentsHolesAsHoles()
    {
        // Found by a break-out attempt: a sparse file costs its parent's filesystem (and the host) nothing, but the remix's
        // copy wrote it out in full: a gigabyte of zeros into each child, or, past the child's size, a failed remix.
        var (client, parent) = await IdleSessionAsync("holes");
        using var _ = client;
        Assert.Equal("0\n", (await fixture.RunInsideAsync(parent, "truncate -s 1G /session/data/hole && echo tail >> /session/data/hole; echo $?")).Stdout);

        var child = (await client.PostOkAsync($"/api/v0/sessions/{parent}/remix", new { data = true, code = false, secrets = false })).Id();
        await client.WaitForStateAsync(child, "idle", TimeSpan.FromSeconds(ComputersAppFixture.StartDeadlineSeconds + 15));

        var copied = await fixture.RunInsideAsync(child, "stat -c '%s' /session/data/hole; tail -c 5 /session/data/hole");
        Assert.Equal($"{1024L * 1024 * 1024 + 5}\ntail\n", copied.Stdout);
        // On the host the child's whole filesystem takes a few MiB (ext4's own tables, the agent's files), not the
        // gigabyte (measured there: gVisor's stat inside reports a file's blocks from its size).
        var image = VolumeFileSystems.ImageOf(ComputerOptions.DefaultVolumeFileSystemsPath, DockerComputerProvider.NameOf(child));
        Assert.InRange(AllocatedBytes(image), 1, 16 * 1024L * 1024L);
    }

    [Fact]
    public async Task ASessionWhoseCodeBrokeItsOwnFoldersStartsAgainWithThemMendedAndNothingDeleted()
    {
        // Found by a break-out attempt: folders moved away, a file, links and a FIFO in their places and /session's own
        // permissions taken away made every later start fail ("did not report ready within 60 s").
        var (client, id) = await IdleSessionAsync("sabotage");
        using var _ = client;
        var broken = await fixture.RunInsideAsync(id, """
            cd /session && mkdir keep && echo kept > keep/k && mv code data secrets keep/
            echo x > code; ln -s /etc secrets; mkfifo data; chmod 000 /session; echo $?
            """);
        Assert.Equal("0\n", broken.Stdout);
        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        await client.WaitForStateAsync(id, "closed");

        await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
        await client.WaitForStateAsync(id, "idle", TimeSpan.FromSeconds(ComputersAppFixture.StartDeadlineSeconds + 15));

        var mended = await fixture.RunInsideAsync(id, """
            cd /session && stat -c '%A %n' . code data secrets logs && cat keep/k
            for f in code secrets data; do stat -c '%F' "$(ls -d $f.moved-* | head -1)"; done
            """);
        // gVisor keeps a FIFO in its own kernel only: under runsc it went with the computer, and data was made anew.
        List<string> expected = ["drwx------ .", "drwxr-xr-x code", "drwxr-xr-x data", "drwx------ secrets", "drwxr-xr-x logs", "kept",
            "regular file", "symbolic link"];
        if (TestRuntime.Name != "runsc")
        {
            expected.Add("fifo");
        }
        Assert.Equal(string.Join('\n', [.. expected, ""]), mended.Stdout);
    }

    [Fact]
    public async Task AComputerCannotDumpCore()
    {
        // Where the host's core_pattern pipes to a helper (systemd-coredump, apport), a root helper on the host would write
        // the dump, outside every limit of the session (a break-out attempt's finding).
        var (client, id) = await IdleSessionAsync("core");
        using var _ = client;
        Assert.Equal("0\n0\n", (await fixture.RunInsideAsync(id, "ulimit -Hc; ulimit -Sc")).Stdout);
    }

    [Fact]
    [OnlyProvider("docker", "volume filesystems are made by the API on the engine's machine; a Swarm node's volumes are measured")]
    public async Task DeletingASessionRemovesItsVolumeFileSystemFromTheHost()
    {
        var (client, id) = await IdleSessionAsync("unmount");
        using var _ = client;
        var name = DockerComputerProvider.NameOf(id);
        var mountPoint = VolumeFileSystems.MountPointOf(ComputerOptions.DefaultVolumeFileSystemsPath, name);
        var image = VolumeFileSystems.ImageOf(ComputerOptions.DefaultVolumeFileSystemsPath, name);
        Assert.True(VolumeFileSystems.IsMounted(mountPoint));
        Assert.True(File.Exists(image));

        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v0/sessions/{id}")).StatusCode);
        await Waits.UntilAsync(async () => !await fixture.Probe.VolumeExistsAsync(id) && !File.Exists(image),
            "the volume and its filesystem are removed");

        Assert.False(VolumeFileSystems.IsMounted(mountPoint));
        Assert.False(Directory.Exists(mountPoint));
        Assert.False(File.Exists(image));
    }

    /// <summary>The bytes of the blocks a file takes on the host's disk (<c>du -B1</c>), sparse parts not counted.</summary>
    private static long AllocatedBytes(string path)
    {
        using var du = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("du", ["-B1", path]) { RedirectStandardOutput = true })!;
        var output = du.StandardOutput.ReadToEnd();
        du.WaitForExit();
        return long.Parse(output.Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task SessionWhoseMeasuredVolumePassesTheDiskLimitIsClosedWithItsFilesKept()
    {
        var (client, id) = await MeasuredSessionAsync("filler");
        using var _ = client;

        // fallocate takes the file's blocks in one call: a volume check cannot fall in the middle of the write (a write of
        // 80 MiB took long enough under gVisor in CI for the check to close the session, and stop the command, halfway).
        var fill = await fixture.RunInsideAsync(id, $"fallocate -l {ComputersAppFixture.MaxVolumeMiB + 16}MiB /session/data/big; echo $?");
        Assert.Equal("0\n", fill.Stdout);

        var notice = await ClosedNoticeAsync(client, id, TimeSpan.FromSeconds(30));
        Assert.Equal("volume_limit", (string?)notice["metadata"]!["type"]);
        Assert.Equal(ComputersAppFixture.MaxVolumeMiB, (int)notice["metadata"]!["limit_mib"]!);
        // The file's 80 MiB, and the few KiB of what the agent keeps on the volume, rounded down.
        var used = (long)notice["metadata"]!["used_mib"]!;
        Assert.Equal(ComputersAppFixture.MaxVolumeMiB + 16, used);
        Assert.Equal($"The session was closed: its files take {used} MiB, more than the limit of {ComputersAppFixture.MaxVolumeMiB} MiB per "
            + "session (Computers:MaxVolumeMiB). Nothing was deleted; make room before working on, or remix it without the large folder.",
            (string?)notice["content"]);
        var files = await fixture.Probe.ReadVolumeAsync(id);
        Assert.Equal((ComputersAppFixture.MaxVolumeMiB + 16) * 1024L * 1024L, files["data/big"].Content.LongLength);
    }

    [Fact]
    public async Task SessionThatMakesItsFilesUnmeasurableIsClosedLikeOneOverTheDiskLimit()
    {
        // Found by a break-out attempt: a path longer than 4,096 characters fails the engine's walk of the volume, which
        // it then reports as -1 bytes; such a volume was never judged, so its session could fill the engine's disk.
        var (client, id) = await MeasuredSessionAsync("deep");
        using var _ = client;

        // 25 folders of 180 characters: a path of 4,538 characters with /session/data, past the kernel's 4,096. Made
        // through folder descriptors, as the path is too long for one call (and for bash's cd under gVisor).
        var deep = await fixture.RunInsideAsync(id, """
            python3 -c '
            import os
            fd = os.open("/session/data", os.O_RDONLY)
            for depth in range(1, 26):
                os.mkdir("d" * 180, dir_fd=fd)
                fd = os.open("d" * 180, os.O_RDONLY, dir_fd=fd)
            print(depth)'
            """);
        Assert.Equal("25\n", deep.Stdout);

        var notice = await ClosedNoticeAsync(client, id, TimeSpan.FromSeconds(30));
        Assert.Equal(VolumeLimit.UnmeasuredText(ComputersAppFixture.MaxVolumeMiB), (string?)notice["content"]);
        Assert.Equal("""{"type":"volume_limit","measured":false,"limit_mib":64}""", notice["metadata"]!.ToJsonString());
    }

    [Fact]
    public async Task SessionWhoseVolumeHoldsTooManyFoldersIsClosedThoughTheEngineCountsThemAsNothing()
    {
        // Found by a break-out attempt: the engine measures a volume by its files' sizes, so a folder or an empty file is
        // 0 bytes to it; a session could make millions and use up the inodes (and, with folders, the disk) of the
        // engine's filesystem without ever passing the limit.
        var (client, id) = await MeasuredSessionAsync("crowd");
        using var _ = client;
        const int folders = ComputersAppFixture.MaxVolumeInodes + 2_000;

        // The volume is measured every 5 s, so the close may cut this command short (under gVisor, where making the folders
        // takes longer, it once did after the last mkdir): what the volume holds is read after the close instead.
        await fixture.RunInsideAsync(id, $"cd /session/data && mkdir $(seq -f 'f%g' 1 {folders})");

        // Thousands of entries to make: under gVisor at a load average of ~44 (CI's three lanes) 60 s ran out for the small files.
        var notice = await ClosedNoticeAsync(client, id, TimeSpan.FromSeconds(180));
        var inodes = (long)notice["metadata"]!["inodes"]!;
        // Counted once past the limit, perhaps while the folders were being made: at most every entry of the volume.
        Assert.InRange(inodes, ComputersAppFixture.MaxVolumeInodes + 1, (await fixture.Probe.ReadVolumeAsync(id)).Count);
        Assert.Equal(VolumeLimit.InodesText(inodes, ComputersAppFixture.MaxVolumeInodes), (string?)notice["content"]);
        Assert.Equal($$"""{"type":"volume_limit","inodes":{{inodes}},"limit_inodes":{{ComputersAppFixture.MaxVolumeInodes}}}""",
            notice["metadata"]!.ToJsonString());
    }

    [Fact]
    public async Task SessionWhoseSmallFilesTakeMoreDiskThanTheirSizesIsClosedByWhatTheyTake()
    {
        // Found by a break-out attempt: the engine counts a file of 4,097 bytes as 4,097 bytes, while it takes two 4 KiB
        // blocks. 9,000 of them are 35 MiB to the engine, under the limit, and take 70 MiB of disk, over it.
        var (client, id) = await MeasuredSessionAsync("blocks");
        using var _ = client;

        // The writer runs on its own: the limit may stop the computer before the last file (once past 8,192 files), and
        // the exec would then end without a word. The files' sizes add up to 35 MiB whenever it is stopped.
        var started = await fixture.RunInsideAsync(id, """
            setsid python3 -c '
            content = b"x" * 4097
            for i in range(9000):
                with open(f"/session/data/s{i}", "wb") as f:
                    f.write(content)' </dev/null >/dev/null 2>&1 &
            echo started
            """);
        Assert.Equal("started\n", started.Stdout);

        // Thousands of entries to make: under gVisor at a load average of ~44 (CI's three lanes) 60 s ran out for the small files.
        var notice = await ClosedNoticeAsync(client, id, TimeSpan.FromSeconds(180));
        var used = (long)notice["metadata"]!["used_mib"]!;
        // Past the limit (64 MiB), at most the 9,000 files' 8 KiB each and the folders' blocks.
        Assert.InRange(used, ComputersAppFixture.MaxVolumeMiB, 71);
        Assert.Equal($$"""{"type":"volume_limit","used_mib":{{used}},"limit_mib":{{ComputersAppFixture.MaxVolumeMiB}}}""",
            notice["metadata"]!.ToJsonString());
    }

    [Fact]
    public async Task DesktopWhoseDisplayNeverAnswersGivesA502AndNoScreenshotProcessStaysBehind()
    {
        // Found by a break-out attempt: the session's code replaced its X server by a socket that accepts and never
        // answers; every screenshot then was a 500 INTERNAL_ERROR after 15 s and left an import process waiting for ever.
        await fixture.PublishDesktopImageAsync();
        var (_, client) = await fixture.CreateOperatorAsync("mute");
        var id = (await client.CreateSessionAsync(new { desktop = true, secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() } })).Id();
        await client.WaitForStateAsync(id, "idle", TimeSpan.FromSeconds(120));
        var mute = await fixture.RunInsideAsync(id, """
            pkill -x Xvfb; while pgrep -x Xvfb >/dev/null; do sleep 0.1; done; rm -f /tmp/.X11-unix/X1
            setsid python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.bind("/tmp/.X11-unix/X1"); s.listen(64)
            c = []
            while True: c.append(s.accept())' </dev/null >/dev/null 2>&1 &
            until [ -S /tmp/.X11-unix/X1 ]; do sleep 0.1; done; echo muted
            """);
        Assert.Equal("muted\n", mute.Stdout);

        await (await client.GetAsync($"/api/v0/sessions/{id}/screenshot")).AssertErrorAsync(502, "BAD_GATEWAY");

        await Waits.UntilAsync(async () => (await fixture.RunInsideAsync(id, "pgrep -x import; echo $?")).Stdout == "1\n",
            "no screenshot process is left in the computer", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task PipesTheSessionsCodeLeftWhereThePlatformWritesItsLogsDoNotHangItsNextStartOrTurn()
    {
        // Found reading what a computer reads at its start: the session's code could put FIFOs where the platform writes its
        // logs and setup status and reads the instructions. Opening a FIFO waits for a writer for ever: each turn then hung
        // reading the instructions, and each later start hung until the start deadline made the session errored, for good.
        var key = ComputersAppFixture.NewModelKey();
        var (_, client) = await fixture.CreateOperatorAsync("piper");
        using var _ = client;
        var id = (await client.CreateSessionAsync(new { instructions = "Answer in French.", secrets = new { OPENAI_API_KEY = key } })).Id();
        await client.WaitForStateAsync(id, "idle");
        var piped = await fixture.RunInsideAsync(id, """
            cd /session/logs && rm -f setup.status setup.log desktop.log tools.log && mkfifo setup.status setup.status.tmp setup.log desktop.log tools.log
            rm -f /session/code/instructions.md && mkfifo /session/code/instructions.md && echo piped
            """);
        Assert.Equal("piped\n", piped.Stdout);

        // A turn with a tool call: its instructions are a pipe, so it goes on with the platform's system prompt alone, and
        // the tool log (a pipe too) is a file again once the call is logged.
        fixture.Model.EnqueueFor(key,
            ScriptStep.CallTool("bash", new System.Text.Json.Nodes.JsonObject { ["command"] = "echo logged" }),
            ScriptStep.Answer("bonjour"));
        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "hi" });
        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(60));
        Assert.Equal("bonjour", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
        Assert.DoesNotContain("Answer in French.", fixture.Model.Requests.First(r => r.ApiKey == key).System, StringComparison.Ordinal);
        Assert.Equal("file", (await fixture.RunInsideAsync(id, "[ -f /session/logs/tools.log ] && ! [ -p /session/logs/tools.log ] && echo file")).Stdout.Trim());

        // The next start: the pipes where the platform writes are gone, replaced by files where it writes. (The session's own
        // instructions.md is left as it is; gVisor keeps a FIFO in its own kernel only, so it survives the restart under runc
        // alone and is not looked at here.)
        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        await client.WaitForStateAsync(id, "closed");
        await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
        await client.WaitForStateAsync(id, "idle", TimeSpan.FromSeconds(ComputersAppFixture.StartDeadlineSeconds + 15));
        var left = await fixture.RunInsideAsync(id, """
            for f in /session/logs/setup.status /session/logs/setup.status.tmp /session/logs/setup.log /session/logs/desktop.log; do
              [ -p "$f" ] && echo "pipe $f"
            done
            head -1 /session/logs/setup.status
            """);
        Assert.Equal("result=none\n", left.Stdout);
    }

    [Fact]
    public async Task TheEditorNeitherWaitsOnAPipeTheSessionsCodeLeftNorReadsAnEnormousFileWhole()
    {
        // Found by a break-out attempt: the editor's create read the file it replaces (for undo) with no check at all, and its
        // writes opened the file the plain way, so a FIFO the session's code put where the model creates a file, or where it
        // undoes an edit, made the agent wait for a writer (a reader) for ever: the turn never answered and the session stayed
        // busy. The same read took a file of any size whole into the agent's memory: a sparse file of 150 MiB failed the
        // call with "the process ran out of memory" and left the agent at 410 MiB of the computer's 512.
        var key = ComputersAppFixture.NewModelKey();
        var (client, id) = await IdleSessionAsync("editor-pipe", key);
        using var _ = client;
        var made = await fixture.RunInsideAsync(id, """
            cd /session/data && mkfifo created.txt && echo one > edited.txt && echo made
            """);
        Assert.Equal("made\n", made.Stdout);
        JsonObject Editor(string command, string path, string? text = null) => text is null
            ? new JsonObject { ["command"] = command, ["path"] = path }
            : new JsonObject { ["command"] = command, ["path"] = path, ["file_text"] = text };

        // The model creates a file where the session's code left a pipe, then edits a file the code turns into a pipe (the
        // bash call) before the model undoes the edit.
        fixture.Model.EnqueueFor(key,
            ScriptStep.CallTool(TextEditorToolName, Editor("create", "/session/data/created.txt", "hello")),
            ScriptStep.CallTool(TextEditorToolName, new JsonObject
            {
                ["command"] = "str_replace", ["path"] = "/session/data/edited.txt", ["old_str"] = "one", ["new_str"] = "two",
            }),
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = "cd /session/data && rm edited.txt && mkfifo edited.txt" }),
            ScriptStep.CallTool(TextEditorToolName, Editor("undo_edit", "/session/data/edited.txt")),
            ScriptStep.Answer("still here"));
        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "Edit." });
        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(60));

        var runs = messages.Where(m => (string?)m!["metadata"]?["type"] == "tool_execution").Select(m => (string?)m!["content"]).ToList();
        Assert.Equal(4, runs.Count);
        Assert.Contains("'/session/data/created.txt' is not a regular file (a pipe, socket or device)", runs[0], StringComparison.Ordinal);
        Assert.Contains("edited", runs[1], StringComparison.Ordinal);
        Assert.Contains("'/session/data/edited.txt' is not a regular file (a pipe, socket or device)", runs[3], StringComparison.Ordinal);
        Assert.Equal("still here", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);

        // A file larger than the editor reads (10 MiB): refused by its size, not read whole (this system's disk limit is
        // 64 MiB, so the file is smaller than the one above).
        var big = await fixture.RunInsideAsync(id, "truncate -s 20M /session/data/big.txt && echo big");
        Assert.Equal("big\n", big.Stdout);
        fixture.Model.EnqueueFor(key,
            ScriptStep.CallTool(TextEditorToolName, Editor("create", "/session/data/big.txt", "small")),
            ScriptStep.Answer("survived"));
        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "Replace it." });
        messages = await client.WaitForMessagesAsync(id, m => m.Count(x => (string?)x!["metadata"]?["type"] == "response") == 2, TimeSpan.FromSeconds(60));
        var refused = (string?)messages.Last(m => (string?)m!["metadata"]?["type"] == "tool_execution")!["content"];
        Assert.Contains($"has {20 * 1024 * 1024} bytes; the editor handles files up to {10 * 1024 * 1024} bytes", refused, StringComparison.Ordinal);
        Assert.Equal("survived", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
        await client.WaitForStateAsync(id, "idle");
    }

    private const string TextEditorToolName = "str_replace_based_edit_tool";

    [Fact]
    public async Task ManyEditsOfABigFileKeepTheEditorsUndoHistoryWithinItsBoundAndTheAgentAlive()
    {
        // Found by a break-out attempt: for undo_edit the editor kept the whole earlier contents of a file at every edit, with
        // no bound (a file of up to 10 MiB, 20 MiB as .NET text, per edit), so a model asked for a few dozen edits of a big
        // file took the agent past the computer's 512 MiB: from the 18th edit of a 10,000,000-byte file on, every edit failed
        // with "the process ran out of memory". 24 edits and 4 undos stay within the agent's 30 model calls per turn.
        const int Edits = 24;
        var key = ComputersAppFixture.NewModelKey();
        var (client, id) = await IdleSessionAsync("undo-hoarder", key);
        using var _ = client;
        var made = await fixture.RunInsideAsync(id, $$"""
            python3 -c '
            marks = "".join("[%d]\n" % n for n in range({{Edits}}))
            open("/session/data/big.txt", "w").write(marks + "x" * (10000000 - len(marks)))
            ' && stat -c %s /session/data/big.txt
            """);
        Assert.Equal("10000000\n", made.Stdout);
        JsonObject Edit(int n) => new()
        {
            ["command"] = "str_replace", ["path"] = "/session/data/big.txt", ["old_str"] = $"[{n}]\n", ["new_str"] = $"({n})\n",
        };

        fixture.Model.EnqueueFor(key, [
            .. Enumerable.Range(0, Edits).Select(n => ScriptStep.CallTool(TextEditorToolName, Edit(n))),
            .. Enumerable.Range(0, 4).Select(_ => ScriptStep.CallTool(TextEditorToolName,
                new JsonObject { ["command"] = "undo_edit", ["path"] = "/session/data/big.txt" })),
            ScriptStep.Answer("edited"),
        ]);
        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "Edit it." });
        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(300));

        var runs = messages.Where(m => (string?)m!["metadata"]?["type"] == "tool_execution").Select(m => (string?)m!["content"] ?? "").ToList();
        Assert.Equal(Edits + 4, runs.Count);
        Assert.All(runs.Take(Edits), run => Assert.Contains("The file /session/data/big.txt has been edited", run, StringComparison.Ordinal));
        // The history keeps 32 MiB (each entry its bytes and 64 more): the contents before the last three edits, no more.
        Assert.All(runs.Skip(Edits).Take(3), run => Assert.Contains("Last edit to /session/data/big.txt undone.", run, StringComparison.Ordinal));
        Assert.Contains("No edit to undo for /session/data/big.txt: the editor keeps the earlier contents of its last edits up to 33554432 bytes over all files, and this file's older ones were dropped.",
            runs[^1], StringComparison.Ordinal);
        Assert.Equal("edited", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
        var edited = await fixture.RunInsideAsync(id, "head -c 400 /session/data/big.txt | grep -c '^(' ; stat -c %s /session/data/big.txt");
        Assert.Equal($"{Edits - 3}\n10000000\n", edited.Stdout);
        await client.WaitForStateAsync(id, "idle");
    }

    [Fact]
    public async Task APipeSwappedInAsTheToolLogAfterTheAgentLookedDoesNotHangTheTurn()
    {
        // Found by a break-out attempt: the agent removed anything but a regular file at logs/tools.log, then appended with
        // a plain open. A process of the session that keeps renaming a fresh FIFO onto that path wins the gap between the
        // two, and the append waited for a reader for ever: that turn never answered, nor did any later one.
        var key = ComputersAppFixture.NewModelKey();
        var (client, id) = await IdleSessionAsync("log-swapper", key);
        using var _ = client;
        var swapping = await fixture.RunInsideAsync(id, """
            cat > /tmp/swap.py <<'EOF'
            import os, sys
            os.chdir("/session/logs")
            i = 0
            while True:
                name = ".fifo%s%d" % (sys.argv[1], i % 2)
                i += 1
                try:
                    os.mkfifo(name)
                except FileExistsError:
                    pass
                os.rename(name, "tools.log")
            EOF
            (setsid python3 /tmp/swap.py a >/dev/null 2>&1 &)
            (setsid python3 /tmp/swap.py b >/dev/null 2>&1 &)
            sleep 1
            [ -p /session/logs/tools.log ] && echo swapping
            """);
        Assert.Equal("swapping\n", swapping.Stdout);

        // Ten tool calls in one turn, each logged: before, one of the first few appends met a FIFO and the turn hung.
        const int Calls = 10;
        fixture.Model.EnqueueFor(key, [
            .. Enumerable.Range(1, Calls).Select(n => ScriptStep.CallTool("bash", new JsonObject { ["command"] = $"echo call {n}" })),
            ScriptStep.Answer("all logged or left out"),
        ]);
        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "Go." });
        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(90));

        Assert.Equal(Enumerable.Range(1, Calls).Select(n => $"$ echo call {n}"),
            messages.Where(m => (string?)m!["metadata"]?["type"] == "tool_execution").Select(m => ((string?)m!["content"])!.Split('\n')[0]));
        Assert.Equal("all logged or left out", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
        await client.WaitForStateAsync(id, "idle");
    }

    [Fact]
    public async Task TerminalControlSequencesACommandPrintsReachTheOwnersTerminalOnlyAsVisibleText()
    {
        // Found by a break-out attempt: `raworc send` and `raworc watch` printed a command's output as it came, so the
        // session's code could send its owner's terminal (and a published session's readers') escape sequences: move the
        // cursor up and overwrite the lines above (a forged command and exit status), set the title, write the clipboard
        // (OSC 52). The computer prints them; the CLI must show them as text.
        var key = ComputersAppFixture.NewModelKey();
        var (name, client) = await fixture.CreateOperatorAsync("terminal", pass: "terminal-pass-1");
        using var _ = client;
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = key } })).Id();
        await client.WaitForStateAsync(id, "idle");
        fixture.Model.EnqueueFor(key,
            ScriptStep.CallTool("bash", new JsonObject { ["command"] = @"printf 'rm -rf /\r\033[2K\033[1Aok\033]52;c;ZWNobyBwd25lZA==\a\033]0;title\a\302\233\n'" }),
            ScriptStep.Answer("done"));
        using var cli = new CliRun();
        var url = fixture.CreateApiClient().BaseAddress!.ToString().TrimEnd('/');
        Assert.Equal(0, (await cli.RunAsync(["login", "--url", url, "--user", name, "--pass", "terminal-pass-1"])).ExitCode);

        var sent = await cli.RunAsync(["send", id.ToString(), "Print it."], timeout: TimeSpan.FromSeconds(120));

        Assert.Equal(0, sent.ExitCode);
        var run = sent.Lines.Single(line => line.StartsWith("  rm -rf", StringComparison.Ordinal));
        Assert.Equal("  rm -rf /^M^[[2K^[[1Aok^[]52;c;ZWNobyBwd25lZA==^G^[]0;title^G\uFFFD", run);
        Assert.DoesNotContain(sent.Out, c => char.IsControl(c) && c is not '\n' and not '\t');
    }


    [Fact]
    public async Task CommandWhoseOutputHoldsANulByteIsStillShownAsAToolExecution()
    {
        // Found by a break-out attempt: one NUL byte in a command's output made the API refuse the tool_execution
        // message (422), so the session's code could hide from the history any command it ran.
        var key = ComputersAppFixture.NewModelKey();
        var (client, id) = await IdleSessionAsync("nul", key);
        using var _ = client;
        fixture.Model.EnqueueFor(key,
            ScriptStep.CallTool("bash", new System.Text.Json.Nodes.JsonObject { ["command"] = "printf 'hidden\\0run'" }),
            ScriptStep.Answer("done"));

        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "Run it." });
        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(120));

        var run = Assert.Single(messages, m => (string?)m!["metadata"]?["type"] == "tool_execution")!;
        Assert.Equal("$ printf 'hidden\\0run'\nexit_code: 0\n<stdout>\nhidden\uFFFDrun\n</stdout>\n<stderr>\n\n</stderr>", (string?)run["content"]);
    }

    [Fact]
    public async Task BusySessionClosedAndMessagedAtOnceAnswersTheMessageAfterItsRestore()
    {
        var key = ComputersAppFixture.NewModelKey();
        var (client, id) = await IdleSessionAsync("racer", key);
        using var _ = client;
        // The first agent is mid-turn (a long command) when its session is closed; whatever it sends while it stops
        // (its tool message, its last "idle") carries the first start's token.
        fixture.Model.EnqueueFor(key,
            ScriptStep.CallTool("bash", new System.Text.Json.Nodes.JsonObject { ["command"] = "sleep 20" }),
            ScriptStep.Answer("answered after the restore"));
        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "first" });
        await Waits.UntilAsync(async () => fixture.Model.Requests.Count(r => r.ApiKey == key) == 1, "the first turn's model call");

        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        var second = await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "second" });
        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(90));

        var answer = Assert.Single(messages, m => (string?)m!["metadata"]?["type"] == "response")!;
        Assert.Equal(("answered after the restore", (string?)second["id"]), ((string?)answer["content"], (string?)answer["metadata"]!["reply_to"]));
        await client.WaitForStateAsync(id, "idle");
        Assert.Equal([2], await fixture.QueryAsync<int>("SELECT computer_start FROM sessions WHERE id = @id", ("id", id)));
    }

    private static async Task<string> RunAsync(string program, string arguments)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output + error;
    }

    private static async Task IpAsync(string arguments, bool check = true)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ip", arguments)
        {
            RedirectStandardError = true,
        })!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {arguments} failed: {error}");
        }
    }
}
