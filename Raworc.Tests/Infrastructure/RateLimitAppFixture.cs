using System.Globalization;

namespace Raworc.Tests.Infrastructure;

/// <summary>
/// The API-only system with small rate limits: 10 failed logins per name (the default) and 15 per address in a 600 s window (long enough
/// that a slow run stays inside one window), and buckets of <see cref="RequestBurst"/> requests refilled at 1 per second.
/// </summary>
public sealed class RateLimitAppFixture : RaworcAppFixture
{
    /// <summary>Failed logins per operator name in a window.</summary>
    public const int LoginFailuresPerName = 10;

    /// <summary>Failed logins per client address in a window.</summary>
    public const int LoginFailuresPerAddress = 15;

    /// <summary>The login window, seconds.</summary>
    public const int LoginWindowSeconds = 600;

    /// <summary>Requests an operator, user or Host may make at once.</summary>
    public const int RequestBurst = 20;

    protected override IReadOnlyDictionary<string, string> ApiEnvironment => new Dictionary<string, string>
    {
        ["RateLimits__LoginFailuresPerName"] = LoginFailuresPerName.ToString(CultureInfo.InvariantCulture),
        ["RateLimits__LoginFailuresPerAddress"] = LoginFailuresPerAddress.ToString(CultureInfo.InvariantCulture),
        ["RateLimits__LoginWindowSeconds"] = LoginWindowSeconds.ToString(CultureInfo.InvariantCulture),
        ["RateLimits__RequestsPerSecond"] = "1",
        ["RateLimits__RequestBurst"] = RequestBurst.ToString(CultureInfo.InvariantCulture),
        ["RateLimits__HostRequestsPerSecond"] = "1",
        ["RateLimits__HostRequestBurst"] = RequestBurst.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>The rate-limit tests share one system with small limits.</summary>
[CollectionDefinition(Name)]
public sealed class RateLimitAppCollection : ICollectionFixture<RateLimitAppFixture>
{
    public const string Name = "Raworc app with small rate limits";
}
