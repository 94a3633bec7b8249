using System.ComponentModel.DataAnnotations;

namespace Raworc.ApiService.Auth;

/// <summary>
/// Rate limits, section <c>RateLimits</c>: failed logins per operator name and per client address, requests per
/// authenticated principal, and requests without a token per computer. Failed logins are counted in Redis, together for every API replica (in this process alone
/// while Redis does not answer: <see cref="LoginThrottle"/>); requests are counted in this API process (each replica
/// counts its own). A limit of 0 turns it off.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "RateLimits";

    /// <summary>Failed logins allowed per operator name in each login window, over all replicas.</summary>
    [Range(0, 1_000_000)]
    public int LoginFailuresPerName { get; set; } = 10;

    /// <summary>
    /// Failed logins allowed per client address in each login window over all replicas, whatever the names tried (more
    /// than per name: one address may be a whole office behind NAT).
    /// </summary>
    [Range(0, 1_000_000)]
    public int LoginFailuresPerAddress { get; set; } = 30;

    /// <summary>Length of the login window, seconds.</summary>
    [Range(1, 86_400)]
    public int LoginWindowSeconds { get; set; } = 60;

    /// <summary>
    /// Requests per second an operator or user may make (a token bucket refilled every second). Above the throughput the
    /// benchmark asks of one operator (5,000 req/s), so one busy client is never slowed by default.
    /// </summary>
    [Range(0, 1_000_000)]
    public int RequestsPerSecond { get; set; } = 10_000;

    /// <summary>Requests an operator or user may make at once beyond the rate (the bucket's size).</summary>
    [Range(1, 1_000_000)]
    public int RequestBurst { get; set; } = 10_000;

    /// <summary>Requests per second a session's Host agent may make (one bucket per session).</summary>
    [Range(0, 1_000_000)]
    public int HostRequestsPerSecond { get; set; } = 1_000;

    /// <summary>Requests a session's Host agent may make at once beyond its rate.</summary>
    [Range(1, 1_000_000)]
    public int HostRequestBurst { get; set; } = 1_000;

    /// <summary>
    /// Requests per second without a token that one computer may make through the computer socket (told by its process's
    /// control group), or one source address through the computer port (a node behind its NAT): the boot exchange and a
    /// Host route called without a Host token. A computer makes one boot exchange per start; the session's code could
    /// otherwise guess tickets without end, each guess a database read.
    /// </summary>
    [Range(0, 1_000_000)]
    public int ComputerAnonymousRequestsPerSecond { get; set; } = 10;

    /// <summary>Requests without a token one computer (or computer-port address) may make at once beyond its rate.</summary>
    [Range(1, 1_000_000)]
    public int ComputerAnonymousRequestBurst { get; set; } = 20;
}
