using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Webhooks;

/// <summary>
/// The API-only system with webhooks that may reach 127.0.0.1 (the tests' receiver), quick retries (one immediate retry
/// after 50 ms, then a round every second) and a webhook disabled after <see cref="DisableAfterFailures"/> failed rounds in
/// a row. Its tests restart the API, so they have this system to themselves.
/// </summary>
public sealed class WebhookAppFixture : RaworcAppFixture
{
    /// <summary>Failed rounds in a row that disable a webhook.</summary>
    public const int DisableAfterFailures = 6;

    protected override IReadOnlyDictionary<string, string> ApiEnvironment => new Dictionary<string, string>
    {
        ["Webhooks__AllowPrivateTargets"] = "true",
        ["Webhooks__ImmediateRetries"] = "1",
        ["Webhooks__ImmediateRetryDelayMilliseconds"] = "50",
        ["Webhooks__RetryDelaySeconds"] = "1",
        ["Webhooks__MaxRetryDelaySeconds"] = "1",
        ["Webhooks__DisableAfterFailures"] = DisableAfterFailures.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Webhooks__DisableAfterFailingSeconds"] = "0",
        ["Webhooks__PollMilliseconds"] = "100",
        ["Webhooks__TimeoutSeconds"] = "5",
    };
}

/// <summary>The webhook tests share one system with a receiver allowed on loopback.</summary>
[CollectionDefinition(Name)]
public sealed class WebhookAppCollection : ICollectionFixture<WebhookAppFixture>
{
    public const string Name = "Raworc app with webhooks";
}
