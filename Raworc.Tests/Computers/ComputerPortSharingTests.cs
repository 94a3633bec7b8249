using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Raworc.ApiService.Computers;

namespace Raworc.Tests.Computers;

/// <summary>
/// The computer port shared by several API processes on one machine (<c>Computers:ComputerPortShared</c>, README "Running
/// several API replicas"): real Kestrel servers set up by <see cref="ComputerSocket"/> as the API's start-up does, on one
/// port, and real TCP connections to it. Without the setting a second server on the port stops at start-up.
/// </summary>
public sealed class ComputerPortSharingTests
{
    /// <summary>Connections opened per round: each lands on one listener of the port, chosen by the kernel.</summary>
    private const int Connections = 64;

    [Fact]
    public async Task TwoServersWithTheSettingBothServeOnePortAndWhenOneStopsTheOtherServesEveryConnection()
    {
        var (port, a) = await StartOnAFreePortAsync(shared: true, "a");
        await using var _ = a;
        await using var b = Server(port, shared: true, "b");
        await b.StartAsync();

        // The kernel spreads new connections over both listeners (by a hash of each connection's addresses and ports).
        var answers = new List<string>();
        for (var i = 0; i < Connections; i++)
        {
            answers.Add(await AskAsync(port));
        }
        Assert.Equal(["a", "b"], answers.Distinct().Order(StringComparer.Ordinal).ToArray());

        // A stopped server's listener is gone: every new connection reaches the one left.
        await a.StopAsync();
        answers.Clear();
        for (var i = 0; i < Connections; i++)
        {
            answers.Add(await AskAsync(port));
        }
        Assert.Equal(Enumerable.Repeat("b", Connections), answers);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task ASecondServerOnThePortStopsAtStartUpWithThePortInUseUnlessBothShareIt(bool firstShares, bool secondShares)
    {
        var (port, first) = await StartOnAFreePortAsync(firstShares, "first");
        await using var _ = first;
        await using var second = Server(port, secondShares, "second");

        var error = await Assert.ThrowsAsync<IOException>(() => second.StartAsync());
        Assert.Equal($"Failed to bind to address http://[::]:{port}: address already in use.", error.Message);
        // The first goes on serving alone.
        Assert.Equal("first", await AskAsync(port));
    }

    /// <summary>A server set up as the API's start-up sets up the computer port (ApiUrl leads there; no computer socket).</summary>
    private static WebApplication Server(int port, bool shared, string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Computers:ApiUrl"] = $"http://127.0.0.1:{port}/",
            ["Computers:ComputerPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Computers:ComputerPortShared"] = shared ? "true" : "false",
        });
        builder.AddComputerSocket();
        var app = builder.Build();
        app.MapGet("/", () => name);
        app.ListenForComputers();
        return app;
    }

    /// <summary>
    /// Starts the first server on a port that was free a moment before. The port is the kernel's pick from its ephemeral
    /// range, so another process's outgoing connection can take it before the server binds it (CI, the other lane beside
    /// it: "address already in use" for the first server): then it tries another, up to five.
    /// </summary>
    private static async Task<(int Port, WebApplication Server)> StartOnAFreePortAsync(bool shared, string name)
    {
        for (var attempt = 1; ; attempt++)
        {
            int port;
            using (var listener = new TcpListener(IPAddress.IPv6Any, 0))
            {
                listener.Start();
                port = ((IPEndPoint)listener.LocalEndpoint).Port;
            }
            var server = Server(port, shared, name);
            try
            {
                await server.StartAsync();
                return (port, server);
            }
            catch (IOException) when (attempt < 5)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>One request on a new connection to the port; the server's name it answers with.</summary>
    private static async Task<string> AskAsync(int port)
    {
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/");
        request.Headers.ConnectionClose = true;
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }
}
