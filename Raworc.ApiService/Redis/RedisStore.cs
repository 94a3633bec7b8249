using StackExchange.Redis;

namespace Raworc.ApiService.Redis;

/// <summary>
/// What Raworc keeps in Redis: idle deadlines (sorted set scored by <c>auto_close_at</c> in Unix ms), wake-up
/// channels, and locks. All of it can be rebuilt from Postgres: losing Redis loses no data.
/// </summary>
/// <remarks>
/// The writes that follow a Postgres commit (deadlines, wake-ups) are hints: they are sent fire-and-forget and never
/// throw, so a slow or absent Redis never delays a request nor turns a committed write into an error (a client would
/// retry it and duplicate it). What a lost hint would have done happens anyway: the idle sweeper re-seeds deadlines
/// from Postgres every few seconds, workers poll the work queue, and long-polls re-read the database when they end.
/// </remarks>
public sealed class RedisStore(IConnectionMultiplexer redis, ILogger<RedisStore> logger)
{
    /// <summary>Sorted set: session id → idle deadline (Unix ms).</summary>
    public const string IdleDeadlinesKey = "raworc:idle-deadlines";

    /// <summary>
    /// Channel prefix: one channel per session, published when a message is stored (payload <see cref="MessageSignal"/>),
    /// its state changes (<see cref="StateSignal"/>) or it is deleted (<see cref="DeletedSignal"/>).
    /// </summary>
    public const string MessageChannelPrefix = "raworc:messages:";

    /// <summary>Payload of a message's wake-up (wakes long-polls and event streams).</summary>
    public const string MessageSignal = "1";

    /// <summary>Payload of a state change's wake-up (wakes event streams only).</summary>
    public const string StateSignal = "s";

    /// <summary>Payload of a deletion's wake-up (wakes event streams only).</summary>
    public const string DeletedSignal = "d";

    /// <summary>Channel published when work is queued.</summary>
    public const string WorkChannel = "raworc:work";

    /// <summary>Channel published with an operator's id when the operator changed (see <c>Auth.PrincipalCache</c>).</summary>
    public const string OperatorChannel = "raworc:operators";

    private IDatabase Db => redis.GetDatabase();

    /// <summary>Sets (or moves) a session's idle deadline; a hint (see remarks).</summary>
    public void SetIdleDeadline(Guid sessionId, DateTimeOffset deadline) => Hint("idle deadline", db =>
        db.SortedSetAdd(IdleDeadlinesKey, sessionId.ToString(), deadline.ToUnixTimeMilliseconds(), flags: CommandFlags.FireAndForget));

    /// <summary>Removes a session's idle deadline (it is busy, closed or gone); a hint (see remarks).</summary>
    public void ClearIdleDeadline(Guid sessionId) => Hint("idle deadline", db =>
        db.SortedSetRemove(IdleDeadlinesKey, sessionId.ToString(), CommandFlags.FireAndForget));

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

    /// <summary>Wakes long-polls of a session's messages (every replica); a hint (see remarks).</summary>
    public void PublishMessage(Guid sessionId) => Publish(sessionId, MessageSignal);

    /// <summary>
    /// Wakes event streams of a session whose state or publication changed (every replica), so each reads again; a hint
    /// (see remarks).
    /// </summary>
    public void PublishStateChange(Guid sessionId) => Publish(sessionId, StateSignal);

    /// <summary>Wakes event streams of a deleted session, which then end (every replica); a hint (see remarks).</summary>
    public void PublishDeleted(Guid sessionId) => Publish(sessionId, DeletedSignal);

    private void Publish(Guid sessionId, string signal) => Hint("session wake-up", _ =>
        redis.GetSubscriber().Publish(RedisChannel.Literal(MessageChannelPrefix + sessionId), signal, CommandFlags.FireAndForget));

    /// <summary>Wakes the work queue's workers (every replica); a hint (see remarks).</summary>
    public void PublishWork() => Hint("work wake-up", _ =>
        redis.GetSubscriber().Publish(RedisChannel.Literal(WorkChannel), "1", CommandFlags.FireAndForget));

    /// <summary>Tells every replica that operator <paramref name="operatorId"/> changed; a hint (see remarks).</summary>
    public void PublishOperatorChange(Guid operatorId) => Hint("operator change", _ =>
        redis.GetSubscriber().Publish(RedisChannel.Literal(OperatorChannel), operatorId.ToString(), CommandFlags.FireAndForget));

    /// <summary>Takes or extends a lock held by <paramref name="owner"/> for <paramref name="ttl"/>; true when held.</summary>
    public async Task<bool> HoldLockAsync(string name, string owner, TimeSpan ttl) =>
        await Db.LockExtendAsync(name, owner, ttl) || await Db.LockTakeAsync(name, owner, ttl);

    private void Hint(string what, Action<IDatabase> send)
    {
        try
        {
            send(Db);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            logger.LogWarning("Redis {What} not sent: {Reason}", what, FailureText.DescribeForLog(ex));
        }
    }
}
