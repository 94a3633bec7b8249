using System.Net;
using System.Net.Sockets;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Computers;

/// <summary>
/// The isolation of README "Security model" on the two-node test Swarm (issue 17, item 3): from inside a real computer
/// running as a Swarm service, as the user the Host's tools run as, real connection attempts to everything but the API's
/// computer port, which computers on other machines reach by <c>Computers:ApiUrl</c>; and on that port, only the Host's
/// routes. Each target is first shown to be there and answering (from inside its own computer, or from the host).
/// </summary>
[ComputerLane]
[Collection(SwarmAppCollection.Name)]
public sealed class SwarmBoundaryTests(SwarmAppFixture fixture) : IAsyncLifetime
{
    // The sessions a test made, with their owner's token: deleted after it, so the cluster's room (eight computers of
    // 0.5 CPU on the one-machine test cluster) goes back to the collection's other tests.
    private readonly List<(Guid Id, string Token)> _sessions = [];

    // Each test here starts three or four computers: room is made first, whatever ran before in the collection.
    public Task InitializeAsync() => SwarmCluster.CannotRunReason is null ? fixture.MakeRoomAsync() : Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (id, token) in _sessions)
        {
            using var owner = fixture.CreateApiClient(token);
            using var deleted = await owner.DeleteAsync($"/api/v0/sessions/{id}");
        }
        await fixture.WaitUntilServicesRemovedAsync([.. _sessions.Select(s => s.Id)]);
    }

    /// <summary>The port the other sessions' computers serve a file on.</summary>
    private const int ServerPort = 8123;

    /// <summary>What no attempt may get: a connection, or a refusal (which shows the target answered).</summary>
    private const string NoAnswer = "no answer";

    /// <summary>What the computer socket answers for a route that is not the Host's, and so must the computer port.</summary>
    private const string NotFound = """{"error":{"code":"NOT_FOUND","message":"Not found."}} 404""";

    [SwarmFact]
    public async Task AtItsApiAddressAComputerOnTheClusterFindsOnlyTheHostsRoutes()
    {
        var (_, client) = await fixture.CreateOperatorAsync("swarm-port");
        using var _ = client;
        var token = client.DefaultRequestHeaders.Authorization!.Parameter;
        var key = ComputersAppFixture.NewModelKey();
        var id = await SessionAsync(client, key);
        // The address the computer is given (its agent's RAWORC_API_URL), read inside as the tools' user.
        var given = (await fixture.RunInsideAsync(id, "printf %s \"$RAWORC_API_URL\"")).Stdout;
        Assert.Equal(fixture.ComputerApiUrl, given);
        string Curl(string method, string path, string? body = null, string? bearer = null) =>
            $"curl -s -m 10 -w ' %{{http_code}}' -X {method} -H 'Content-Type: application/json' "
            + (bearer is null ? "" : $"-H 'Authorization: Bearer {bearer}' ") + (body is null ? "" : $"-d '{body}' ")
            + given.TrimEnd('/') + path;

        // An operator's login (the admin's password, as code that learnt it would try), an operator's own routes with a
        // token that leaked into the session, the session list without one, health, the version, the OpenAPI document and
        // the dashboard: all the computer socket's 404. Before, the computer port did not exist and ApiUrl was the API's
        // HTTP address, which answered each (the login with a token).
        var attempts = new (string Name, string Command)[]
        {
            ("login", Curl("POST", "/api/v0/operators/admin/login", $"{{\"pass\":\"{RaworcAppFixture.AdminPassword}\"}}")),
            ("own session with an operator token", Curl("GET", $"/api/v0/sessions/{id}", bearer: token)),
            ("operators with an operator token", Curl("GET", "/api/v0/operators", bearer: token)),
            ("sessions", Curl("GET", "/api/v0/sessions")),
            ("health", Curl("GET", "/health")),
            ("version", Curl("GET", "/api/v0/version")),
            ("openapi", Curl("GET", "/openapi/v1.json")),
            ("dashboard", Curl("GET", "/")),
        };
        var answers = new List<string>();
        foreach (var (name, command) in attempts)
        {
            answers.Add($"{name}: {(await fixture.RunInsideAsync(id, command)).Stdout}");
        }
        Assert.Equal(attempts.Select(a => $"{a.Name}: {NotFound}"), answers);

        // A Host route without a token is the route's own 401; with the session's agent the session answers a message.
        var messagesWithoutToken = await fixture.RunInsideAsync(id,
            $"curl -s -m 10 -o /dev/null -w '%{{http_code}}' {given.TrimEnd('/')}/api/v0/sessions/{id}/messages");
        Assert.Equal("401", messagesWithoutToken.Stdout);
        fixture.Model.EnqueueFor(key, ScriptStep.Answer("answered through the port"));
        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "are you there?" });
        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(60));
        Assert.Equal("answered through the port", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
        // The same login on the API's own port succeeds: the computer port refuses it, not the API.
        Assert.False(string.IsNullOrEmpty(await fixture.LoginAsync("admin", RaworcAppFixture.AdminPassword)));
    }

    [SwarmFact]
    public async Task AComputerOnTheClusterReachesItsApiPortAndNoOtherComputerNodeOrHost()
    {
        var (_, client) = await fixture.CreateOperatorAsync("swarm-prober");
        using var _ = client;
        var key = ComputersAppFixture.NewModelKey();
        var prober = await SessionAsync(client, key);
        var proberNode = (await fixture.ComputerAsync(prober)).NodeId;
        // Another session on the prober's node and one on the other node: the scheduler spreads new sessions, so a few do.
        Guid? neighbour = null, remote = null;
        for (var attempt = 0; attempt < 5 && (neighbour is null || remote is null); attempt++)
        {
            var other = await SessionAsync(client, ComputersAppFixture.NewModelKey());
            if ((await fixture.ComputerAsync(other)).NodeId == proberNode)
            {
                neighbour ??= other;
            }
            else
            {
                remote ??= other;
            }
        }
        Assert.True(neighbour is not null && remote is not null, "within 6 sessions none landed beside the prober or none on the other node");

        // Each of the two serves a file, and answers it at the address the prober will try.
        var targets = new List<(string Name, string Address, int Port)>();
        foreach (var (name, id) in new[] { ("computer of another session, same node", neighbour!.Value), ("computer of another session, other node", remote!.Value) })
        {
            // The server's log names the client of every request: the test reads it at the end.
            await fixture.RunInsideAsync(id, $"cd /session/data && echo secret-{id} > f.txt && (setsid python3 -m http.server {ServerPort} >/tmp/http.log 2>&1 &)");
            var (address, _) = await ComputerAddressAsync(id);
            await Waits.UntilAsync(async () => (await fixture.RunInsideAsync(id, $"curl -sf http://{address}:{ServerPort}/f.txt")).Stdout == $"secret-{id}\n",
                $"the {name} answering at {address}");
            targets.Add((name, address, ServerPort));
        }

        // The nodes: their cluster addresses (Swarm's control port 2377 on the manager, gossip 7946 on each, and the ports
        // a node's engine would listen on over TCP), and the gateway of the computers' bridge on the prober's node.
        foreach (var node in await fixture.Manager.Swarm.ListNodesAsync())
        {
            var which = node.ID == proberNode ? "prober's node" : "other node";
            foreach (var port in new[] { 2377, 7946, 2375, 2376 })
            {
                targets.Add(($"{which} {node.Status.Addr}:{port}", node.Status.Addr, port));
            }
        }
        var (_, gateway) = await ComputerAddressAsync(prober);
        foreach (var port in new[] { 2377, 7946, 2375 })
        {
            targets.Add(($"prober's node, bridge gateway {gateway}:{port}", gateway, port));
        }

        // The host the cluster runs on: a service of its own bound on every address, answering the host on its
        // addresses; the API's TCP port there; an internet address; the link-local metadata address.
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var open = ((IPEndPoint)listener.LocalEndpoint).Port;
        var api = fixture.CreateApiClient().BaseAddress!.Port;
        foreach (var address in HostAddresses())
        {
            using (var fromHost = new TcpClient())
            {
                await fromHost.ConnectAsync(address, open);
            }
            targets.Add(($"host {address}:{open} (bound on every address)", address.ToString(), open));
            targets.Add(($"host {address}:{api} (the API's port)", address.ToString(), api));
        }
        targets.Add(("internet 1.1.1.1:443", "1.1.1.1", 443));
        targets.Add(("metadata 169.254.169.254:80", "169.254.169.254", 80));

        var outcomes = await AttemptAllAsync(prober, targets);

        Assert.Equal(targets.Count, outcomes.Count);
        // Each node gives the computers' network its own subnet from the same pool, so the other node's computer may have
        // the prober's own address: trying it then reaches the prober itself (refused: nothing listens there). Whether the
        // other computer was reached is what its server's log says (below), not what the prober sees.
        var (own, _) = await ComputerAddressAsync(prober);
        var (remoteAddress, _) = await ComputerAddressAsync(remote.Value);
        if (remoteAddress == own)
        {
            outcomes.Remove("computer of another session, other node");
        }
        Assert.True(outcomes.Values.All(o => o.Verdict == NoAnswer),
            "the prober reached: " + string.Join("; ", outcomes.Where(o => o.Value.Verdict != NoAnswer).Select(o => $"{o.Key} ({o.Value.Detail})")));
        // Neither server saw a request but its own check.
        foreach (var id in new[] { neighbour.Value, remote.Value })
        {
            var (address, _) = await ComputerAddressAsync(id);
            var clients = (await fixture.RunInsideAsync(id, "grep -o '^[0-9.]* ' /tmp/http.log | sort -u")).Stdout;
            Assert.Equal($"{address} \n", clients);
        }
        // No engine's socket is in the computer either (the Docker provider gives none; neither does Swarm), and no API
        // socket: computers on the cluster reach the API by its computer port, as on nodes of other machines.
        var sockets = await fixture.RunInsideAsync(prober,
            $"for f in /var/run/docker.sock /run/docker.sock /run/{SwarmAppFixture.ClusterName}-1.sock /run/{SwarmAppFixture.ClusterName}-2.sock /run/raworc/api.sock; do [ -e $f ] && echo $f; done; echo checked");
        Assert.Equal("checked\n", sockets.Stdout);

        // While the computer still reaches its own API routes at its computer port, and only those.
        string Curl(string method, string path) =>
            $"curl -s -o /dev/null -w '%{{http_code}}' -X {method} {fixture.ComputerApiUrl.TrimEnd('/')}{path}";
        var messagesWithoutToken = await fixture.RunInsideAsync(prober, Curl("GET", $"/api/v0/sessions/{prober}/messages"));
        var sessions = await fixture.RunInsideAsync(prober, Curl("GET", "/api/v0/sessions"));
        Assert.Equal(("401", "404"), (messagesWithoutToken.Stdout, sessions.Stdout));
        fixture.Model.EnqueueFor(key, ScriptStep.Answer("still reached"));
        await client.PostOkAsync($"/api/v0/sessions/{prober}/messages", new { content = "are you there?" });
        var messages = await client.WaitForMessagesAsync(prober, m => m.HasResponse(), TimeSpan.FromSeconds(60));
        Assert.Equal("still reached", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
    }

    private async Task<Guid> SessionAsync(HttpClient client, string key)
    {
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = key } })).Id();
        _sessions.Add((id, client.DefaultRequestHeaders.Authorization!.Parameter!));
        await client.WaitForStateAsync(id, "idle");
        return id;
    }

    /// <summary>The computer's address on its one network and that network's gateway (its node), as the node's engine reports them.</summary>
    private async Task<(string Address, string Gateway)> ComputerAddressAsync(Guid id)
    {
        var (node, container) = await fixture.ComputerAsync(id);
        var inspected = await (await fixture.NodeEngineAsync(node)).Containers.InspectContainerAsync(container);
        var network = Assert.Single(inspected.NetworkSettings.Networks).Value;
        return (network.IPAddress, network.Gateway);
    }

    /// <summary>
    /// Tries every target at once from inside the computer (bash's <c>/dev/tcp</c>, at most 5 s each): target → verdict
    /// (<c>connected</c>, <c>refused</c>, or <see cref="NoAnswer"/> for a time-out or an unreachable host or network) and
    /// what bash said.
    /// </summary>
    private async Task<Dictionary<string, (string Verdict, string Detail)>> AttemptAllAsync(Guid id, List<(string Name, string Address, int Port)> targets)
    {
        const string Probe = """
            probe() {
              local out code
              out=$(timeout 5 bash -c "exec 3<>/dev/tcp/$2/$3" 2>&1); code=$?; out=${out//$'\n'/ }
              case $code in
                0) echo "$1|connected|" ;;
                124) echo "$1|no answer|timed out" ;;
                *) case $out in
                     *refused*) echo "$1|refused|$out" ;;
                     *unreachable*|*'No route'*) echo "$1|no answer|${out##*: }" ;;
                     *) echo "$1|failed|$out" ;;
                   esac ;;
              esac
            }
            """;
        var lines = string.Join("\n", targets.Select((t, i) => $"probe {i} {t.Address} {t.Port} &"));
        var run = await fixture.RunInsideAsync(id, $"{Probe}\n{lines}\nwait");
        var outcomes = new Dictionary<string, (string, string)>();
        foreach (var line in run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split('|', 3);
            outcomes[targets[int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture)].Name] = (parts[1], parts[2].Trim());
        }
        return outcomes;
    }

    /// <summary>The host's IPv4 addresses on its network interfaces other than loopback and the cluster's own.</summary>
    private static List<IPAddress> HostAddresses() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(nic => nic.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up
                && nic.NetworkInterfaceType != System.Net.NetworkInformation.NetworkInterfaceType.Loopback
                && !nic.Name.StartsWith("veth", StringComparison.Ordinal))
            .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
            .Select(unicast => unicast.Address)
            .Where(address => address.AddressFamily == AddressFamily.InterNetwork)
            .Distinct()
            .ToList();
}
