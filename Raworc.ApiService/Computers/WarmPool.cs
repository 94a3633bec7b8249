using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Redis;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Keeps <see cref="ComputerOptions.WarmPool"/> started, unassigned computers waiting for new sessions (one replica at a
/// time, under a Redis lock), every second and at once after a claim on this replica. Each round it replaces pooled
/// computers that no longer fit (settings or image changed, container gone or stopped, pool token past half its life,
/// more than the pool's size) and starts the missing ones, a few at a time. A pooled computer is started like a session's,
/// with the same limits and hardening, for a session id reserved in its <see cref="WarmComputer"/> row (inserted before the
/// container exists, so the reconciler never takes it for an orphan). With the pool at 0 every pooled computer is removed.
/// With <see cref="ComputerOptions.Capacity"/> set, pooled computers count against it: the pool holds at most what the live
/// sessions leave of the capacity, so live sessions plus pooled computers stay within it (a create that starts its own
/// computer may pass it for up to a round, until the pool gives one back).
/// </summary>
public sealed class WarmPool(IServiceScopeFactory scopes, IComputerProvider computers, RedisStore presence,
    IOptions<ComputerOptions> options, TimeProvider clock, ILogger<WarmPool> logger) : BackgroundService
{
    /// <summary>Redis lock held by the replica that tends the pool.</summary>
    public const string LockName = "raworc:lock:warm-pool";

    private const int ParallelStarts = 4;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LockTtl = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FailureBackoff = TimeSpan.FromSeconds(10);
    private readonly string _owner = $"{Environment.MachineName}:{Guid.NewGuid():N}";
    private readonly Channel<bool> _wakeUps = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private DateTimeOffset _notBefore = DateTimeOffset.MinValue;

    /// <summary>
    /// The settings a pooled computer is started with, as 32 hex characters: image name, runtime, limits (the volume's
    /// filesystem and size too), network and the API's address for computers. A computer is claimed only while the fingerprint it was started with is current.
    /// </summary>
    public static string Fingerprint(ComputerOptions settings) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n',
        settings.Image, settings.Runtime, settings.Cpus.ToString(System.Globalization.CultureInfo.InvariantCulture), settings.MemoryMiB,
        settings.Egress, settings.Network, settings.PidsLimit, settings.OpenFilesLimit, settings.ScratchMiB, settings.LogMaxMiB,
        settings.SetupTimeoutSeconds, settings.HostSocketPath, settings.ApiUrl, settings.VolumeFileSystems, settings.MaxVolumeMiB,
        settings.MaxVolumeInodes))))[..32];

    /// <summary>Asks for a round now (after a claim): a hint, never blocks.</summary>
    public void Wake() => _wakeUps.Writer.TryWrite(true);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (clock.GetUtcNow() >= _notBefore && await presence.HoldLockAsync(LockName, _owner, LockTtl)
                    && await computers.IsReachableAsync(stoppingToken))
                {
                    await TendAsync(stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Tending the warm pool failed: {Reason}", FailureText.DescribeForLog(ex));
            }
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            wait.CancelAfter(Interval);
            try
            {
                await _wakeUps.Reader.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>One round: removes what does not fit, then starts what is missing.</summary>
    public async Task TendAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var fingerprint = Fingerprint(settings);
        var imageId = settings.WarmPool > 0 ? await computers.ImageIdAsync(cancellationToken) : null;
        var now = clock.GetUtcNow();
        List<WarmComputer> rows;
        var size = settings.WarmPool;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RaworcDbContext>();
            rows = await db.WarmComputers.AsNoTracking().OrderBy(w => w.CreatedAt).ToListAsync(cancellationToken);
            if (size > 0 && settings.Capacity > 0)
            {
                // Pooled computers count against the capacity: the pool fills only what the live sessions leave of it.
                var live = await db.Sessions.CountAsync(s => Sessions.SessionQuotas.LiveStates.Contains(s.State), cancellationToken);
                size = Math.Clamp(settings.Capacity - live, 0, size);
            }
        }
        if (rows.Count == 0 && size == 0)
        {
            return;
        }
        // Rows first, containers second: a container started for a row read above is in the list.
        var containers = (await computers.ListAsync(cancellationToken)).ToDictionary(c => c.SessionId);
        var keep = new List<WarmComputer>();
        foreach (var row in rows)
        {
            var fits = row.Fingerprint == fingerprint && imageId is not null && now - row.CreatedAt < Work.ComputerWork.PoolTokenLifetime / 2
                && (row.ContainerId is null
                    ? now - row.CreatedAt < TimeSpan.FromSeconds(settings.WorkTimeoutSeconds)
                    : containers.TryGetValue(row.Id, out var computer) && computer.ContainerId == row.ContainerId
                        && computer.State == ComputerState.Running && computer.ImageId == imageId);
            if (fits && keep.Count < size)
            {
                keep.Add(row);
            }
            else
            {
                await RemoveAsync(row.Id, cancellationToken);
            }
        }
        if (imageId is null)
        {
            return;
        }
        var missing = size - keep.Count;
        for (var started = 0; started < missing; started += ParallelStarts)
        {
            await Task.WhenAll(Enumerable.Range(0, Math.Min(ParallelStarts, missing - started)).Select(_ => StartOneAsync(fingerprint, cancellationToken)));
        }
    }

    private async Task StartOneAsync(string fingerprint, CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RaworcDbContext>();
        // The row first: from this moment the reconciler counts the container as pooled, never as an orphan.
        db.WarmComputers.Add(new WarmComputer { Id = id, Fingerprint = fingerprint, CreatedAt = clock.GetUtcNow() });
        await db.SaveChangesAsync(cancellationToken);
        try
        {
            var spec = scope.ServiceProvider.GetRequiredService<Work.ComputerWork>().PooledSpec(id);
            var handle = await computers.CreateAsync(spec, cancellationToken);
            if (await db.WarmComputers.Where(w => w.Id == id).ExecuteUpdateAsync(set => set.SetProperty(w => w.ContainerId, handle.ContainerId), cancellationToken) == 0)
            {
                // Removed meanwhile (the pool was shrunk): the computer is not wanted.
                await computers.DeleteAsync(id, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A missing image or runtime, or the engine failing: try again later, without flooding the log.
            _notBefore = clock.GetUtcNow() + FailureBackoff;
            // A missing image or runtime is quoted by the describer as the provider wrote it.
            logger.LogWarning("A warm computer could not be started: {Reason}", FailureText.DescribeForLog(ex));
            await RemoveAsync(id, CancellationToken.None);
        }
    }

    /// <summary>Removes an unclaimed computer: its row first (a claim that holds the row wins, and then nothing is removed), then container and volume.</summary>
    private async Task RemoveAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RaworcDbContext>();
        if (await db.WarmComputers.Where(w => w.Id == id).ExecuteDeleteAsync(cancellationToken) > 0)
        {
            await computers.DeleteAsync(id, cancellationToken);
        }
    }
}
