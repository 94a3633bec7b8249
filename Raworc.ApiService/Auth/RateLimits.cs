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
public sealed class LoginThrottle : IDisposable
{
    private const string NamePrefix = "name:", AddressPrefix = "address:";

    private readonly PartitionedRateLimiter<string> _failures;

    /// <summary>Builds the limiter from the settings; a key whose limit is 0 is not limited.</summary>
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
    /// How long a login for <paramref name="name"/> from <paramref name="address"/> must wait, or null when it may be
    /// tried now.
    /// </summary>
    public TimeSpan? RetryAfter(string name, IPAddress? address)
    {
        TimeSpan? wait = null;
        foreach (var key in Keys(name, address))
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

    /// <summary>Counts a failed login against the name and the address.</summary>
    public void RecordFailure(string name, IPAddress? address)
    {
        foreach (var key in Keys(name, address))
        {
            _failures.AttemptAcquire(key, 1).Dispose();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _failures.Dispose();

    // Operator names are at most 64 characters: a longer one names no operator, and its first 65 characters are key enough.
    private static string[] Keys(string name, IPAddress? address) =>
    [
        NamePrefix + (name.Length > 65 ? name[..65] : name),
        AddressPrefix + (address is null ? "local" : address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString() : address.ToString()),
    ];
}
