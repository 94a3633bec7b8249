using System.ComponentModel.DataAnnotations;

namespace Raworc.ApiService.Webhooks;

/// <summary>Settings of webhooks, bound from the configuration section <c>Webhooks</c> and validated at start-up.</summary>
public sealed class WebhookOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Webhooks";

    /// <summary>
    /// Allows URLs whose host is (or resolves to) a loopback, link-local, private, unspecified or multicast address.
    /// Off by default: a webhook is a request the API makes on an operator's behalf and must not reach the API's own
    /// network. Tests turn it on for their receiver on 127.0.0.1.
    /// </summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>Time limit of one HTTP attempt, seconds.</summary>
    [Range(1, 300)]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>Retries right after a failed attempt, within one round (Polly, exponential with jitter from <see cref="ImmediateRetryDelayMilliseconds"/>).</summary>
    [Range(0, 5)]
    public int ImmediateRetries { get; set; } = 2;

    /// <summary>First delay of the immediate retries, milliseconds (doubling).</summary>
    [Range(1, 60_000)]
    public int ImmediateRetryDelayMilliseconds { get; set; } = 500;

    /// <summary>Delay after the first failed round, seconds; it doubles with every further failed round of the delivery.</summary>
    [Range(1, 86_400)]
    public int RetryDelaySeconds { get; set; } = 30;

    /// <summary>Longest delay between rounds, seconds.</summary>
    [Range(1, 86_400)]
    public int MaxRetryDelaySeconds { get; set; } = 3600;

    /// <summary>
    /// A webhook is disabled (with its reason) once this many rounds in a row have failed and it has been failing for at
    /// least <see cref="DisableAfterFailingSeconds"/>.
    /// </summary>
    [Range(1, 1_000_000)]
    public int DisableAfterFailures { get; set; } = 10;

    /// <summary>See <see cref="DisableAfterFailures"/>; seconds since the first failure after the last success (default 24 h).</summary>
    [Range(0, 31_536_000)]
    public int DisableAfterFailingSeconds { get; set; } = 86_400;

    /// <summary>Deliveries sent at once by each replica.</summary>
    [Range(1, 64)]
    public int Concurrency { get; set; } = 4;

    /// <summary>Days a delivered delivery (and its attempts) is kept for <c>GET /webhooks/{id}/deliveries</c>.</summary>
    [Range(1, 3650)]
    public int RetentionDays { get; set; } = 7;

    /// <summary>How often an idle dispatcher looks for due deliveries, milliseconds.</summary>
    [Range(50, 60_000)]
    public int PollMilliseconds { get; set; } = 1000;
}
