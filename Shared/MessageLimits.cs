namespace Raworc;

/// <summary>Limits of a message post that the API enforces and the Host agent keeps to, compiled into both.</summary>
internal static class MessageLimits
{
    /// <summary>
    /// The request header of <c>POST …/messages</c> that carries the post's idempotency key (the IETF httpapi draft's name):
    /// the API stores a message once per key and session, the agent sends one key per message on every attempt.
    /// </summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>Longest idempotency key, in characters (the column is <c>varchar(255)</c>).</summary>
    public const int MaxIdempotencyKeyLength = 255;

    /// <summary>Most characters (UTF-16 code units) in one message's <c>content</c>: longer is a 422 from the API, and the agent cuts its answers to fit.</summary>
    public const int MaxContentLength = 100_000;
}
