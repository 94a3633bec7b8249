using System.Net.Sockets;
using System.Text;

namespace Raworc.Tests.Infrastructure;

/// <summary>
/// A Unix socket in front of the local Docker engine: passes every byte both ways unchanged and, when asked, keeps what
/// clients sent (the engine API's request lines and headers), so a test can tell what talked to the engine through this
/// address rather than through the engine's own socket. A test can also hold one request back (<see cref="Hold"/>): its
/// sender then waits on the engine, as on an engine that is slow to answer, for as long as the test likes.
/// </summary>
public sealed class EngineProxy : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly string _engine;
    private readonly bool _record;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<StringBuilder> _sent = [];
    private readonly List<HeldRequest> _holds = [];
    private readonly Task _accepting;

    private EngineProxy(string path, string engine, bool record)
    {
        Path = path;
        _engine = engine;
        _record = record;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(64);
        _accepting = AcceptAsync();
    }

    /// <summary>The proxy's socket file.</summary>
    public string Path { get; }

    /// <summary>The proxy as a Docker endpoint (<c>unix://…</c>), for <c>Computers:DockerEndpoint</c>.</summary>
    public string Endpoint => $"unix://{Path}";

    /// <summary>
    /// Listens on a new socket in the temporary folder, in front of <paramref name="engine"/>; with <paramref name="record"/>
    /// false, nothing sent is kept (a system with computers sends whole archives) and <see cref="Received"/> always says no.
    /// </summary>
    public static EngineProxy Start(string engine = "/var/run/docker.sock", bool record = true) =>
        new(System.IO.Path.Combine("/tmp", $"raworc-engine-{Guid.NewGuid().ToString("N")[..8]}.sock"), engine, record);

    /// <summary>
    /// Holds back the next request whose bytes contain <paramref name="text"/> (ASCII; a request line such as
    /// <c>/containers/create?name=raworc-session-…</c>): from the read that brings it, nothing more of its connection goes to
    /// the engine, so its sender waits for an answer. Later requests with the same text pass. Disposing the hold drops the
    /// request unsent and closes its connection (the sender, if it still lives, sees the connection end).
    /// </summary>
    public HeldRequest Hold(string text)
    {
        var hold = new HeldRequest(text);
        lock (_holds)
        {
            _holds.Add(hold);
        }
        return hold;
    }

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

    /// <summary>Copies until either side ends; <paramref name="record"/> (null for the engine's answers) gets the client's bytes when recording.</summary>
    private async Task CopyAsync(Stream from, Stream to, StringBuilder? record)
    {
        var buffer = new byte[16 * 1024];
        // The end of the previous read, so a held text split across two reads is still found.
        var carry = "";
        try
        {
            for (int read; (read = await from.ReadAsync(buffer, _stop.Token)) > 0;)
            {
                if (record is not null)
                {
                    var chunk = Encoding.ASCII.GetString(buffer, 0, read);
                    if (_record)
                    {
                        lock (_sent)
                        {
                            record.Append(chunk);
                        }
                    }
                    var window = carry + chunk;
                    carry = window[Math.Max(0, window.Length - 256)..];
                    if (Matching(window) is { } hold)
                    {
                        hold.Reach();
                        await hold.Dropped.WaitAsync(_stop.Token);
                        return;
                    }
                }
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
        }
    }

    /// <summary>The first hold whose text <paramref name="window"/> contains, taken out of the list; null when none.</summary>
    private HeldRequest? Matching(string window)
    {
        lock (_holds)
        {
            var hold = _holds.FirstOrDefault(h => !h.Dropped.IsCompleted && window.Contains(h.Text, StringComparison.Ordinal));
            if (hold is not null)
            {
                _holds.Remove(hold);
            }
            return hold;
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

/// <summary>A request <see cref="EngineProxy.Hold"/> keeps from the engine until disposed, which drops it unsent.</summary>
public sealed class HeldRequest : IDisposable
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _dropped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal HeldRequest(string text) => Text = text;

    /// <summary>The text that picks the request.</summary>
    public string Text { get; }

    /// <summary>Completes when a client has sent the request and it is being held.</summary>
    public Task Reached => _reached.Task;

    internal Task Dropped => _dropped.Task;

    internal void Reach() => _reached.TrySetResult();

    /// <summary>Drops the held request unsent and closes its connection (or, before any request matched, stops waiting for one).</summary>
    public void Dispose() => _dropped.TrySetResult();
}
