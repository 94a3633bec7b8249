using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Computers;
using Raworc.ApiService.Errors;

namespace Raworc.ApiService.Auth;

/// <summary>
/// Rate limiting with ASP.NET Core's rate limiter (<see cref="RateLimitOptions"/>): a token bucket per authenticated
/// principal on every route and one per computer for its requests without a token, counted in this process, and <see cref="LoginThrottle"/> on the login endpoints, counted in
/// Redis for every replica. A refusal is a 429
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
                var message = rejected.HttpContext.User.Identity?.IsAuthenticated == true
                    ? "Too many requests for this principal; slow down."
                    : "Too many requests without a token from this computer; slow down.";
                return new ValueTask(WriteTooManyAsync(rejected.HttpContext, retryAfter, message, cancellationToken));
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

    // One bucket per principal: an operator by its row id, a user by its name, a Host by its session; and one per computer
    // (its key from the connection, see SocketConnectionLimit) for a computer's requests without a token. Other anonymous
    // requests (login, /version, published sessions) are not limited here.
    private static RateLimitPartition<string> PrincipalPartition(HttpContext context, RateLimitOptions limits)
    {
        var user = context.User;
        string key;
        int perSecond, burst;
        if (user.Identity?.IsAuthenticated == true)
        {
            (key, perSecond, burst) = user.Type() switch
            {
                PrincipalTypes.Host => ($"Host:{user.HostSessionId()}", limits.HostRequestsPerSecond, limits.HostRequestBurst),
                PrincipalTypes.Operator => ($"Operator:{user.OperatorId()}", limits.RequestsPerSecond, limits.RequestBurst),
                _ => ($"User:{user.Name()}", limits.RequestsPerSecond, limits.RequestBurst),
            };
        }
        else if (context.IsFromComputer())
        {
            var computer = context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(SocketConnectionLimit.ComputerKeyItem, out var item) == true
                ? item as string ?? "" : "";
            (key, perSecond, burst) = ($"Computer:{computer}", limits.ComputerAnonymousRequestsPerSecond, limits.ComputerAnonymousRequestBurst);
        }
        else
        {
            return RateLimitPartition.GetNoLimiter("");
        }
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
