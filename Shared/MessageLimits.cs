namespace Raworc;

/// <summary>Limits of message content that the API enforces and the Host agent keeps to, compiled into both.</summary>
internal static class MessageLimits
{
    /// <summary>Most characters (UTF-16 code units) in one message's <c>content</c>: longer is a 422 from the API, and the agent cuts its answers to fit.</summary>
    public const int MaxContentLength = 100_000;
}
