using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Redis;
using StackExchange.Redis;

namespace Raworc.ApiService.Auth;

/// <summary>What the authentication check needs of an operator row: its name, whether it is active and admin, and its token generation.</summary>
/// <param name="Name">Login name (<c>sub</c> of its tokens).</param>
/// <param name="IsActive">An inactive operator's tokens are refused.</param>
/// <param name="IsAdmin">Gives the role <c>admin</c>.</param>
/// <param name="TokenGeneration">Tokens of any other generation (<c>gen</c>) are refused.</param>
public sealed record OperatorStanding(string Name, bool IsActive, bool IsAdmin, int TokenGeneration);

/// <summary>
/// Operator rows as the authentication check reads them, cached per operator id for at most
/// <see cref="JwtOptions.PrincipalCacheSeconds"/>, so an operator's request costs no Postgres round trip for the check.
/// Revocation stays immediate: every change of an operator (password, revoke, deactivation, role, delete) calls
/// <see cref="Invalidate"/> after its commit, which drops the entry in this process before the change's response is sent,
/// and publishes the id on <see cref="RedisStore.OperatorChannel"/> (a hint) so other replicas drop theirs within the
/// message's delivery; the time limit bounds a missed message.
/// </summary>
public sealed class PrincipalCache(IConnectionMultiplexer redis, RedisStore hints, IOptions<JwtOptions> options) : IHostedService
{
    // More operators than this live in no deployment we know of; past it the cache starts over rather than grow.
    private const int MaxEntries = 10_000;

    private static readonly Func<RaworcDbContext, Guid, CancellationToken, Task<OperatorStanding?>> Load = EF.CompileAsyncQuery(
        (RaworcDbContext db, Guid id, CancellationToken _) => db.Operators.AsNoTracking().Where(o => o.Id == id)
            .Select(o => new OperatorStanding(o.Name, o.IsActive, o.IsAdmin, o.TokenGeneration)).FirstOrDefault());

    private readonly ConcurrentDictionary<Guid, Entry> _entries = new();
    private long _invalidations;

    /// <summary>The operator <paramref name="id"/> as the database had it at most the cache's time ago, or null when there is no such row.</summary>
    public async Task<OperatorStanding?> GetAsync(RaworcDbContext db, Guid id, CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        if (_entries.TryGetValue(id, out var cached) && now < cached.ExpiresAt)
        {
            return cached.Standing;
        }

        var seen = Interlocked.Read(ref _invalidations);
        var standing = await Load(db, id, cancellationToken);
        var lifetime = options.Value.PrincipalCacheSeconds * 1000L;
        if (standing is null || lifetime == 0)
        {
            return standing;
        }
        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }
        var entry = new Entry(standing, now + lifetime);
        _entries[id] = entry;
        // A change committed while this row was read may have been invalidated before the store above: then the row read
        // may be the old one, so it must not stay. (An invalidation after this check removes the entry itself.)
        if (Interlocked.Read(ref _invalidations) != seen)
        {
            _entries.TryRemove(new KeyValuePair<Guid, Entry>(id, entry));
        }
        return standing;
    }

    /// <summary>
    /// Forgets operator <paramref name="id"/> here at once and on other replicas through Redis (fire-and-forget).
    /// Call after the change's commit and before answering.
    /// </summary>
    public void Invalidate(Guid id)
    {
        Forget(id);
        hints.PublishOperatorChange(id);
    }

    /// <summary>Entries held (for tests).</summary>
    internal int Count => _entries.Count;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) =>
        redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(RedisStore.OperatorChannel), (_, value) =>
        {
            if (Guid.TryParse(value.ToString(), out var id))
            {
                Forget(id);
            }
        });

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) =>
        redis.GetSubscriber().UnsubscribeAsync(RedisChannel.Literal(RedisStore.OperatorChannel));

    private void Forget(Guid id)
    {
        Interlocked.Increment(ref _invalidations);
        _entries.TryRemove(id, out _);
    }

    private sealed record Entry(OperatorStanding Standing, long ExpiresAt);
}
