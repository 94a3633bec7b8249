using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Keeps the computers' socket (<see cref="ComputerOptions.HostSocketPath"/>, <c>api.sock</c>) leading to a live replica.
/// Each API process listens on a socket of its own in the same folder (<see cref="OwnPath"/>, <c>api-&lt;random&gt;.sock</c>),
/// and <c>api.sock</c> is a relative symbolic link to one of them, so it resolves inside every computer (which sees the
/// folder at <see cref="ComputerSocket.MountPath"/>). Every <see cref="Interval"/> each replica connects through the link;
/// when nothing answers (the replica it led to died, or none ever listened) the replica points it at its own socket with
/// an atomic rename, and the Host's next connection (it retries with a backoff) reaches that replica. Sockets of replicas
/// that died are removed once they have refused connections for <see cref="StaleAfter"/>.
/// </summary>
/// <remarks>
/// One socket path cannot be shared: a second process binding it unlinks the first's, which then listens on a file no
/// computer can reach, and when the second dies every computer is cut off while the first still runs.
/// </remarks>
public sealed class ComputerSocketKeeper(IOptions<ComputerOptions> options, IHostApplicationLifetime lifetime, ILogger<ComputerSocketKeeper> logger)
    : BackgroundService
{
    /// <summary>How often the link is checked.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>How long a socket file must have been unchanged before a refused connection makes it stale.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(30);

    private readonly string _name = $"api-{Guid.NewGuid().ToString("N")[..12]}.sock";

    /// <summary>This process's own socket, in the folder of <see cref="ComputerOptions.HostSocketPath"/>.</summary>
    public string OwnPath => Path.Combine(Path.GetDirectoryName(options.Value.HostSocketPath)!, _name);

    /// <summary>Points the link at this process's socket unless it already leads to a live one; true when it did.</summary>
    public async Task<bool> ClaimIfDeadAsync(CancellationToken cancellationToken)
    {
        var link = options.Value.HostSocketPath;
        if (await AnswersAsync(link, cancellationToken))
        {
            return false;
        }
        var temporary = $"{link}.{_name}.tmp";
        File.Delete(temporary);
        File.CreateSymbolicLink(temporary, _name);
        // rename(2) replaces the old link (or a plain socket file of an earlier version) in one step.
        File.Move(temporary, link, overwrite: true);
        logger.LogInformation("The computers' socket now leads to this replica");
        return true;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.UsesHostSocket || OperatingSystem.IsWindows())
        {
            return;
        }
        // Not before this process listens on its own socket.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken);
        }
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await ClaimIfDeadAsync(stoppingToken);
                await RemoveStaleAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Checking the computers' socket failed: {Reason}", FailureText.DescribeForLog(ex));
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // A replica that stops in good order leaves no socket behind; the others re-point the link within a second.
        if (options.Value.UsesHostSocket && !OperatingSystem.IsWindows())
        {
            File.Delete(OwnPath);
        }
    }

    private async Task RemoveStaleAsync(CancellationToken cancellationToken)
    {
        var folder = Path.GetDirectoryName(options.Value.HostSocketPath)!;
        foreach (var path in Directory.EnumerateFiles(folder, "api-*.sock"))
        {
            if (path != OwnPath && DateTime.UtcNow - File.GetLastWriteTimeUtc(path) > StaleAfter && !await AnswersAsync(path, cancellationToken))
            {
                File.Delete(path);
            }
        }
    }

    private static async Task<bool> AnswersAsync(string path, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
