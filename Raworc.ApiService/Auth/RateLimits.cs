using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Errors;

namespace Raworc.ApiService.Auth;

/// <summary>
/// Rate limiting with ASP.NET Core's rate limiter (<see cref="RateLimitOptions"/>): a token bucket per authenticated
/// principal on every route, and <see cref="LoginThrottle"/> on the login endpoints. A refusal is a 429
/// <c>RATE_LIMITED</c> in the error envelope with <c>Retry-After</c> in whole seconds.
/// </summary>
public static class RateLimits
{
    /// <summary>Registers the settings (validated at start), the per-principal limiter and the login throttle.</summary>
    public static WebApplicationBuilder AddRaworcRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<LoginThrottle>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((limiter, settings) =>
        {
            var limits = settings.Value;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => PrincipalPartition(context, limits));
            limiter.OnRejected = (rejected, cancellationToken) =>
            {
                rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter);
                return new ValueTask(WriteTooManyAsync(rejected.HttpContext, retryAfter, "Too many requests for this principal; slow down.", cancellationToken));
            };
        });
        return builder;
    }

    /// <summary>Adds the per-principal limiter; must come after authentication, which names the principal.</summary>
    public static WebApplication UseRaworcRateLimits(this WebApplication app)
    {
        app.UseRateLimiter();
        return app;
    }

    /// <summary>
    /// Answers 429 <c>RATE_LIMITED</c> with <c>Retry-After</c>: <paramref name="retryAfter"/> rounded up to whole seconds
    /// (at least 1).
    /// </summary>
    public static Task WriteTooManyAsync(HttpContext context, TimeSpan retryAfter, string message, CancellationToken cancellationToken)
    {
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = RetryAfterSeconds(retryAfter).ToString(CultureInfo.InvariantCulture);
        return context.Response.WriteAsJsonAsync(ApiErrors.Body(429, message), cancellationToken);
    }

    /// <summary>A wait as the whole seconds of <c>Retry-After</c>: rounded up, at least 1.</summary>
    public static long RetryAfterSeconds(TimeSpan retryAfter) => Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));

    // One bucket per principal: an operator by its row id, a user by its name, a Host by its session. Anonymous requests
    // (login, /version, published sessions) are not limited here.
    private static RateLimitPartition<string> PrincipalPartition(HttpContext context, RateLimitOptions limits)
    {
        var user = context.User;
        if (user.Identity?.IsAuthenticated != true)
        {
            return RateLimitPartition.GetNoLimiter("");
        }
        var (key, perSecond, burst) = user.Type() switch
        {
            PrincipalTypes.Host => ($"Host:{user.HostSessionId()}", limits.HostRequestsPerSecond, limits.HostRequestBurst),
            PrincipalTypes.Operator => ($"Operator:{user.OperatorId()}", limits.RequestsPerSecond, limits.RequestBurst),
            _ => ($"User:{user.Name()}", limits.RequestsPerSecond, limits.RequestBurst),
        };
        return perSecond <= 0
            ? RateLimitPartition.GetNoLimiter(key)
            : RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = burst,
                TokensPerPeriod = perSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
    }
}

/// <summary>
/// Counts failed logins per operator name and per client address in a fixed window (<see cref="RateLimitOptions"/>);
/// once either count is used up, every login for that name or from that address is refused until the window ends,
/// whatever the password. Successful logins are not counted, so a client that logs in often is never refused.
/// </summary>
/// <remarks>
/// Logins of one name, and of one address, take turns (<see cref="BeginAsync"/>): checking the count, verifying the
/// password and counting a failure happen one login at a time, so many logins sent at once cannot all pass the check
/// before the first failure is counted. Turns are taken name first, then address, so two logins never wait for each other.
/// </remarks>
public sealed class LoginThrottle : IDisposable
{
    private const string NamePrefix = "name:", AddressPrefix = "address:";

    // Logins waiting for their turn on one key; past it a login is refused at once.
    private const int MaxWaiting = 64;

    private readonly PartitionedRateLimiter<string> _failures;
    private readonly PartitionedRateLimiter<string> _turns = PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetConcurrencyLimiter(key, _ => new ConcurrencyLimiterOptions
        {
            PermitLimit = 1,
            QueueLimit = MaxWaiting,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        }));

    /// <summary>Builds the limiters from the settings; a key whose limit is 0 is not limited.</summary>
    public LoginThrottle(IOptions<RateLimitOptions> options)
    {
        var limits = options.Value;
        _failures = PartitionedRateLimiter.Create<string, string>(key =>
        {
            var permits = key.StartsWith(NamePrefix, StringComparison.Ordinal) ? limits.LoginFailuresPerName : limits.LoginFailuresPerAddress;
            return permits <= 0
                ? RateLimitPartition.GetNoLimiter(key)
                : RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = permits,
                    Window = TimeSpan.FromSeconds(limits.LoginWindowSeconds),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
        });
    }

    /// <summary>
    /// Waits for the turn of a login for <paramref name="name"/> from <paramref name="address"/>. The attempt it returns
    /// says whether the login may be tried; dispose of it once the login's outcome is counted.
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
                    return new LoginAttempt(this, keys, turns, TimeSpan.FromSeconds(1));
                }
            }
            return new LoginAttempt(this, keys, turns, RetryAfter(keys));
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

    // How long a login on these keys must wait, or null when it may be tried now.
    private TimeSpan? RetryAfter(string[] keys)
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

    private void RecordFailure(string[] keys)
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

        internal LoginAttempt(LoginThrottle throttle, string[] keys, List<RateLimitLease> turns, TimeSpan? retryAfter)
        {
            (_throttle, _keys, _turns, RetryAfter) = (throttle, keys, turns, retryAfter);
        }

        /// <summary>How long the caller must wait before trying again; null when this login may be tried.</summary>
        public TimeSpan? RetryAfter { get; }

        /// <summary>Counts this login as failed against its name and address.</summary>
        public void Fail() => _throttle.RecordFailure(_keys);

        /// <summary>Ends the turn: the next login of the same name or address may go.</summary>
        public void Dispose() => _turns.ForEach(turn => turn.Dispose());
    }
}
