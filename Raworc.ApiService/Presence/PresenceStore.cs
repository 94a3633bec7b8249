using StackExchange.Redis;

namespace Raworc.ApiService.Presence;

/// <summary>
/// What Raworc keeps in Redis: idle deadlines (sorted set scored by <c>auto_close_at</c> in Unix ms), the
/// Host's heartbeat while busy (a key with a TTL), wake-up channels, and locks. All of it can be rebuilt from
/// Postgres: losing Redis loses no data.
/// </summary>
public sealed class PresenceStore(IConnectionMultiplexer redis)
{
    /// <summary>Sorted set: session id → idle deadline (Unix ms).</summary>
    public const string IdleDeadlinesKey = "raworc:idle-deadlines";

    /// <summary>Channel prefix: one channel per session, published when a message is stored.</summary>
    public const string MessageChannelPrefix = "raworc:messages:";

    /// <summary>Channel published when work is queued.</summary>
    public const string WorkChannel = "raworc:work";

    /// <summary>How long a heartbeat counts (the agent beats more often while busy).</summary>
    public static readonly TimeSpan HeartbeatTtl = TimeSpan.FromSeconds(60);

    private IDatabase Db => redis.GetDatabase();

    /// <summary>Sets (or moves) a session's idle deadline.</summary>
    public Task SetIdleDeadlineAsync(Guid sessionId, DateTimeOffset deadline) =>
        Db.SortedSetAddAsync(IdleDeadlinesKey, sessionId.ToString(), deadline.ToUnixTimeMilliseconds());

    /// <summary>Removes a session's idle deadline (it is busy, closed or gone).</summary>
    public Task ClearIdleDeadlineAsync(Guid sessionId) => Db.SortedSetRemoveAsync(IdleDeadlinesKey, sessionId.ToString());

    /// <summary>Sessions whose deadline is at or before <paramref name="now"/>, earliest first, at most <paramref name="take"/>.</summary>
    public async Task<IReadOnlyList<Guid>> DueAsync(DateTimeOffset now, int take)
    {
        var members = await Db.SortedSetRangeByScoreAsync(IdleDeadlinesKey, double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: take);
        return [.. members.Select(m => Guid.Parse(m.ToString()))];
    }

    /// <summary>Milliseconds until the earliest deadline, or null when none is set.</summary>
    public async Task<double?> EarliestDeadlineAsync()
    {
        var first = await Db.SortedSetRangeByRankWithScoresAsync(IdleDeadlinesKey, 0, 0);
        return first.Length == 0 ? null : first[0].Score;
    }

    /// <summary>Records that the Host of a session is alive and working.</summary>
    public Task BeatAsync(Guid sessionId) => Db.StringSetAsync(HeartbeatKey(sessionId), "1", HeartbeatTtl);

    /// <summary>True while a heartbeat of the session is fresh.</summary>
    public Task<bool> HasHeartbeatAsync(Guid sessionId) => Db.KeyExistsAsync(HeartbeatKey(sessionId));

    /// <summary>Forgets the heartbeat (the turn ended or the session closed).</summary>
    public Task ClearHeartbeatAsync(Guid sessionId) => Db.KeyDeleteAsync(HeartbeatKey(sessionId));

    /// <summary>Wakes long-polls of a session's messages.</summary>
    public Task PublishMessageAsync(Guid sessionId) =>
        redis.GetSubscriber().PublishAsync(RedisChannel.Literal(MessageChannelPrefix + sessionId), "1");

    /// <summary>Wakes the work queue's workers.</summary>
    public Task PublishWorkAsync() => redis.GetSubscriber().PublishAsync(RedisChannel.Literal(WorkChannel), "1");

    /// <summary>Takes or extends a lock held by <paramref name="owner"/> for <paramref name="ttl"/>; true when held.</summary>
    public async Task<bool> HoldLockAsync(string name, string owner, TimeSpan ttl) =>
        await Db.LockExtendAsync(name, owner, ttl) || await Db.LockTakeAsync(name, owner, ttl);

    private static string HeartbeatKey(Guid sessionId) => $"raworc:heartbeat:{sessionId}";
}
