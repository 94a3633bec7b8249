using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Raworc.ApiService.Auth;

/// <summary>
/// Counts failed logins per operator name and per client address in a fixed window (<see cref="RateLimitOptions"/>);
/// once either count is used up, every login for that name or from that address is refused until the window ends,
/// whatever the password. Successful logins are not counted, so a client that logs in often is never refused.
/// </summary>
/// <remarks>
/// <para>
/// The counts are kept in Redis, so every API replica counts against the same limit: one counter per name and per address
/// (<see cref="KeyPrefix"/>), made when its window's first attempt comes and expiring when the window ends. A login takes
/// one from each counter before its password is checked, in one script that first checks that none is used up (so
/// logins sent at once to several replicas cannot all pass the check); a failed login keeps what it took, any other
/// outcome gives it back. While a login is being checked it counts, so a name at its last allowed failure has one
/// login in flight at a time.
/// </para>
/// <para>
/// When Redis does not answer (not connected, or an error or a timeout of the script), the login is judged by this
/// process's own counters instead, which count every failure seen here whether Redis answered or not: the login limit
/// fails open to a per-process limit. During an outage a name may then fail the limit once on each replica, not more; a
/// refusal instead would lock every operator out of logging in while Redis is down, and the platform's rule is that a
/// Redis outage must not take the system down (README "Running several API replicas").
/// </para>
/// <para>
/// Logins of one name, and of one address, take turns in this process (<see cref="BeginAsync"/>): checking the count,
/// verifying the password and counting a failure happen one login at a time, which keeps the per-process counters exact
/// too. Turns are taken name first, then address, so two logins never wait for each other.
/// </para>
/// </remarks>
public sealed class LoginThrottle : IDisposable
{
    /// <summary>
    /// Prefix of the Redis counters: <c>name:</c> plus the operator name (its first 65 characters), or <c>address:</c> plus
    /// the client address, follows; each holds the failures (and logins in flight) of the current window. The braces make
    /// a name's and an address's counter one hash slot, which a script that touches both needs on a Redis cluster.
    /// </summary>
    public const string KeyPrefix = "raworc:{login-failures}:";

    private const string NamePrefix = "name:", AddressPrefix = "address:";

    // Logins waiting for their turn on one key; past it a login is refused at once.
    private const int MaxWaiting = 64;

    // KEYS: the counters; ARGV[1]: the window, ms; ARGV[1 + i]: the limit of KEYS[i]. Returns 1 when one was taken from
    // each counter, 0 (taking none) when one is used up. A counter without an expiry would never end its window: each
    // gets one when it has none.
    private const string TakeScript = """
        for i = 1, #KEYS do
          if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i + 1]) then return 0 end
        end
        for i = 1, #KEYS do
          redis.call('INCR', KEYS[i])
          if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
        end
        return 1
        """;

    // KEYS: the counters a login took from. A counter whose window has ended is not made again; one that falls to zero
    // holds no failure and goes.
    private const string GiveBackScript = """
        for i = 1, #KEYS do
          if redis.call('EXISTS', KEYS[i]) == 1 and redis.call('DECR', KEYS[i]) <= 0 then redis.call('DEL', KEYS[i]) end
        end
        return 0
        """;

    private readonly RateLimitOptions _limits;
    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger<LoginThrottle> _logger;
    private readonly PartitionedRateLimiter<string> _failures;
    private readonly PartitionedRateLimiter<string> _turns = PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetConcurrencyLimiter(key, _ => new ConcurrencyLimiterOptions
        {
            PermitLimit = 1,
            QueueLimit = MaxWaiting,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        }));

    /// <summary>
    /// Builds the per-process counters from the settings (a key whose limit is 0 is not limited) over
    /// <paramref name="redis"/>, where the shared counters live.
    /// </summary>
    public LoginThrottle(IOptions<RateLimitOptions> options, IConnectionMultiplexer redis, ILogger<LoginThrottle> logger)
    {
        (_limits, _redis, _logger) = (options.Value, redis, logger);
        _failures = PartitionedRateLimiter.Create<string, string>(key =>
        {
            var permits = Limit(key);
            return permits <= 0
                ? RateLimitPartition.GetNoLimiter(key)
                : RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = permits,
                    Window = Window,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
        });
    }

    private TimeSpan Window => TimeSpan.FromSeconds(_limits.LoginWindowSeconds);

    /// <summary>
    /// Waits for the turn of a login for <paramref name="name"/> from <paramref name="address"/> and takes its place in the
    /// shared counts. The attempt it returns says whether the login may be tried; call <see cref="LoginAttempt.Fail"/> when
    /// it failed, and dispose of it once its outcome is known (which gives back the place of a login that did not fail).
    /// </summary>
    public async Task<LoginAttempt> BeginAsync(string name, IPAddress? address, CancellationToken cancellationToken)
    {
        var keys = Keys(name, address);
        var turns = new List<RateLimitLease>(keys.Length);
        try
        {
            foreach (var key in keys)
            {
                var turn = await _turns.AcquireAsync(key, 1, cancellationToken);
                turns.Add(turn);
                if (!turn.IsAcquired)
                {
                    // Too many logins waiting on this name or address.
                    return new LoginAttempt(this, keys, turns, TimeSpan.FromSeconds(1), taken: []);
                }
            }
            var limited = keys.Where(key => Limit(key) > 0).ToArray();
            if (limited.Length == 0)
            {
                return new LoginAttempt(this, keys, turns, null, taken: []);
            }
            return await TakeAsync(limited) switch
            {
                true => new LoginAttempt(this, keys, turns, null, taken: limited),
                false => new LoginAttempt(this, keys, turns, Window, taken: []),
                null => new LoginAttempt(this, keys, turns, RetryAfterHere(keys), taken: []),
            };
        }
        catch
        {
            turns.ForEach(turn => turn.Dispose());
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _failures.Dispose();
        _turns.Dispose();
    }

    private int Limit(string key) => key.StartsWith(NamePrefix, StringComparison.Ordinal) ? _limits.LoginFailuresPerName : _limits.LoginFailuresPerAddress;

    // True when a place was taken in every shared counter, false when one is used up, null when Redis did not answer.
    private async Task<bool?> TakeAsync(string[] keys)
    {
        if (!_redis.IsConnected)
        {
            // Not connected: commands would wait in the client's backlog until they time out; judge here at once.
            _logger.LogWarning("Redis is not connected: failed logins are counted in this process only");
            return null;
        }
        try
        {
            var taken = await _redis.GetDatabase().ScriptEvaluateAsync(TakeScript, RedisKeys(keys),
                [(long)Window.TotalMilliseconds, .. keys.Select(key => (RedisValue)Limit(key))]);
            return (long)taken == 1;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            _logger.LogWarning("Redis did not count a login ({Reason}): failed logins are counted in this process only", FailureText.DescribeForLog(ex));
            return null;
        }
    }

    // Gives back the places of a login that did not fail; sent without waiting for the answer (the next command on this
    // connection comes after it). Lost when Redis is gone: the login then counts as a failure until its window ends.
    private void GiveBack(string[] keys)
    {
        try
        {
            _redis.GetDatabase().ScriptEvaluate(GiveBackScript, RedisKeys(keys), flags: CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            _logger.LogWarning("Redis did not take back a login's count ({Reason})", FailureText.DescribeForLog(ex));
        }
    }

    private static RedisKey[] RedisKeys(string[] keys) => [.. keys.Select(key => (RedisKey)(KeyPrefix + key))];

    // How long a login on these keys must wait by this process's counters, or null when it may be tried now.
    private TimeSpan? RetryAfterHere(string[] keys)
    {
        TimeSpan? wait = null;
        foreach (var key in keys)
        {
            // Zero permits: asks whether any failure is left in the window without using one.
            using var lease = _failures.AttemptAcquire(key, 0);
            if (!lease.IsAcquired)
            {
                var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
                wait = wait is { } longer && longer > retryAfter ? longer : retryAfter;
            }
        }
        return wait;
    }

    private void CountHere(string[] keys)
    {
        foreach (var key in keys)
        {
            _failures.AttemptAcquire(key, 1).Dispose();
        }
    }

    // Operator names are at most 64 characters: a longer one names no operator, and its first 65 characters are key enough.
    private static string[] Keys(string name, IPAddress? address) =>
    [
        NamePrefix + (name.Length > 65 ? name[..65] : name),
        AddressPrefix + (address is null ? "local" : address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString() : address.ToString()),
    ];

    /// <summary>One login's turn: whether it may be tried, and the place to count its failure.</summary>
    public sealed class LoginAttempt : IDisposable
    {
        private readonly LoginThrottle _throttle;
        private readonly string[] _keys;
        private readonly List<RateLimitLease> _turns;
        private string[] _taken;

        internal LoginAttempt(LoginThrottle throttle, string[] keys, List<RateLimitLease> turns, TimeSpan? retryAfter, string[] taken)
        {
            (_throttle, _keys, _turns, RetryAfter, _taken) = (throttle, keys, turns, retryAfter, taken);
        }

        /// <summary>How long the caller must wait before trying again; null when this login may be tried.</summary>
        public TimeSpan? RetryAfter { get; }

        /// <summary>Counts this login as failed against its name and address (shared, and in this process).</summary>
        public void Fail()
        {
            _taken = [];
            _throttle.CountHere(_keys);
        }

        /// <summary>Ends the turn: gives back the shared places of a login that did not fail; the next login of the same name or address may go.</summary>
        public void Dispose()
        {
            if (_taken.Length > 0)
            {
                _throttle.GiveBack(_taken);
                _taken = [];
            }
            _turns.ForEach(turn => turn.Dispose());
        }
    }
}
