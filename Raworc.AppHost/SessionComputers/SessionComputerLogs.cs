using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;

namespace Raworc.AppHost.SessionComputers;

/// <summary>
/// A session computer's console output (the Host agent's log, <c>docker logs</c>) as its resource's logs. A computer's
/// output is followed only while someone watches its logs (<see cref="ResourceLoggerService.WatchAnySubscribersAsync"/>),
/// so a hundred idle computers cost the AppHost nothing; each new follow starts after the newest line already shown
/// (by the engine's timestamps), and a restarted container is followed again (<see cref="Started"/>). Standard error
/// lines are logged as errors.
/// </summary>
/// <param name="loggers">Aspire's per-resource log service.</param>
/// <param name="locate">
/// Where a resource's console is read now: the engine and the container (on Swarm the node's engine and the running
/// task's container), or null when the name is not a live session computer.
/// </param>
/// <param name="logger">The AppHost's own log, for failures.</param>
internal sealed class SessionComputerLogs(ResourceLoggerService loggers, Func<string, (IDockerClient Engine, string ContainerId)?> locate, ILogger logger)
{
    private readonly ConcurrentDictionary<string, Follower> _followers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTime> _newest = new(StringComparer.Ordinal);

    /// <summary>Follows and stops following as watchers come and go, until <paramref name="cancellationToken"/> ends.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var change in loggers.WatchAnySubscribersAsync(cancellationToken))
            {
                if (change.AnySubscribers && locate(change.Name) is not null)
                {
                    var follower = new Follower(CancellationTokenSource.CreateLinkedTokenSource(cancellationToken));
                    if (_followers.TryAdd(change.Name, follower))
                    {
                        follower.Task = FollowAsync(change.Name, follower);
                    }
                }
                else if (!change.AnySubscribers && _followers.TryRemove(change.Name, out var gone))
                {
                    await gone.Cancellation.CancelAsync();
                    gone.Cancellation.Dispose();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Tells a follower of <paramref name="name"/> that its container (re)started, so it follows it again.</summary>
    public void Started(string name)
    {
        if (_followers.TryGetValue(name, out var follower))
        {
            follower.Restarted.Release();
        }
    }

    private async Task FollowAsync(string name, Follower follower)
    {
        var token = follower.Cancellation.Token;
        var output = loggers.GetLogger(name);
        try
        {
            while (!token.IsCancellationRequested)
            {
                try
                {
                    await FollowOnceAsync(name, output, token);
                }
                catch (Exception ex) when (ex is DockerApiException or HttpRequestException or IOException && !token.IsCancellationRequested)
                {
                    logger.LogDebug("Logs of {Computer} not followed: {Reason}", name, ex.Message);
                }
                // The stream ends when the container stops; wait for it to start again.
                await follower.Restarted.WaitAsync(token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    private async Task FollowOnceAsync(string name, ILogger output, CancellationToken token)
    {
        if (locate(name) is not { } location)
        {
            return;
        }
        var (docker, container) = location;
        var since = _newest.TryGetValue(name, out var newest) ? newest : (DateTime?)null;
        using var stream = await docker.Containers.GetContainerLogsAsync(container, tty: false, new ContainerLogsParameters
        {
            Follow = true,
            ShowStdout = true,
            ShowStderr = true,
            Timestamps = true,
            Since = since is { } time ? (time - DateTime.UnixEpoch).TotalSeconds.ToString("F0", CultureInfo.InvariantCulture) : null,
        }, token);
        var buffer = new byte[16 * 1024];
        var lines = new Dictionary<MultiplexedStream.TargetStream, StringBuilder>();
        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, token);
            if (read.EOF)
            {
                return;
            }
            var pending = lines.TryGetValue(read.Target, out var builder) ? builder : lines[read.Target] = new StringBuilder();
            pending.Append(Encoding.UTF8.GetString(buffer, 0, read.Count));
            var text = pending.ToString();
            var end = text.LastIndexOf('\n');
            if (end < 0)
            {
                continue;
            }
            pending.Clear().Append(text, end + 1, text.Length - end - 1);
            foreach (var line in text[..end].Split('\n'))
            {
                Write(name, output, line.TrimEnd('\r'), read.Target == MultiplexedStream.TargetStream.StandardError, since);
            }
        }
    }

    // Each line starts with the engine's RFC 3339 timestamp and a space; lines at or before the last one shown are repeats.
    private void Write(string name, ILogger output, string line, bool isError, DateTime? shownThrough)
    {
        var space = line.IndexOf(' ');
        if (space > 0 && DateTime.TryParse(line[..space], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var at))
        {
            if (at <= shownThrough)
            {
                return;
            }
            _newest[name] = at;
            line = line[(space + 1)..];
        }
        if (isError)
        {
            output.LogError("{Line}", line);
        }
        else
        {
            output.LogInformation("{Line}", line);
        }
    }

    private sealed class Follower(CancellationTokenSource cancellation)
    {
        public CancellationTokenSource Cancellation { get; } = cancellation;

        public SemaphoreSlim Restarted { get; } = new(0);

        public Task? Task { get; set; }
    }
}
