using System.Net.Sockets;
using System.Text;

namespace Raworc.Tests.Infrastructure;

/// <summary>
/// A Unix socket in front of the local Docker engine: passes every byte both ways unchanged and keeps what clients sent
/// (the engine API's request lines and headers), so a test can tell what talked to the engine through this address
/// rather than through the engine's own socket.
/// </summary>
public sealed class EngineProxy : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly string _engine;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<StringBuilder> _sent = [];
    private readonly Task _accepting;

    private EngineProxy(string path, string engine)
    {
        Path = path;
        _engine = engine;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(64);
        _accepting = AcceptAsync();
    }

    /// <summary>The proxy's socket file.</summary>
    public string Path { get; }

    /// <summary>The proxy as a Docker endpoint (<c>unix://…</c>), for <c>Computers:DockerEndpoint</c>.</summary>
    public string Endpoint => $"unix://{Path}";

    /// <summary>Listens on a new socket in the temporary folder, in front of <paramref name="engine"/>.</summary>
    public static EngineProxy Start(string engine = "/var/run/docker.sock") =>
        new(System.IO.Path.Combine("/tmp", $"raworc-engine-{Guid.NewGuid().ToString("N")[..8]}.sock"), engine);

    /// <summary>True when a client sent <paramref name="text"/> (ASCII, within one connection) through the proxy.</summary>
    public bool Received(string text)
    {
        lock (_sent)
        {
            return _sent.Any(connection => connection.ToString().Contains(text, StringComparison.Ordinal));
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var seen = new StringBuilder();
        lock (_sent)
        {
            _sent.Add(seen);
        }
        using var engine = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using (client)
        {
            try
            {
                await engine.ConnectAsync(new UnixDomainSocketEndPoint(_engine), _stop.Token);
                await using var fromClient = new NetworkStream(client, ownsSocket: false);
                await using var toEngine = new NetworkStream(engine, ownsSocket: false);
                var upstream = CopyAsync(fromClient, toEngine, seen);
                var downstream = CopyAsync(toEngine, fromClient, null);
                await Task.WhenAny(upstream, downstream);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException)
            {
            }
        }
    }

    private async Task CopyAsync(Stream from, Stream to, StringBuilder? record)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            for (int read; (read = await from.ReadAsync(buffer, _stop.Token)) > 0;)
            {
                if (record is not null)
                {
                    lock (_sent)
                    {
                        record.Append(Encoding.ASCII.GetString(buffer, 0, read));
                    }
                }
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accepting;
        File.Delete(Path);
        _stop.Dispose();
    }
}
