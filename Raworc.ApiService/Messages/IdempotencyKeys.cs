using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;

namespace Raworc.ApiService.Messages;

/// <summary>
/// The <c>Idempotency-Key</c> request header of <c>POST …/messages</c> (the name of the IETF httpapi draft): a key the
/// client makes for one message and sends with every attempt to post it. The first post that stores the message stores
/// the key with it (unique within the session); a later post with that key stores nothing, wakes nobody and answers
/// <c>201</c> with the message already stored; a later post with that key and another body is a <c>422</c>. The Host
/// agent sends one with every message, since it posts a message again when the answer to a post was lost.
/// </summary>
public static class IdempotencyKeys
{
    /// <summary>The header's name.</summary>
    public const string Header = MessageLimits.IdempotencyKeyHeader;

    /// <summary>Longest key, in characters (the column is <c>varchar(255)</c>).</summary>
    public const int MaxLength = MessageLimits.MaxIdempotencyKeyLength;

    /// <summary>The 422 detail of a key that is not 1…255 visible ASCII characters (or is sent twice).</summary>
    public const string Malformed = "must be 1 to 255 visible ASCII characters";

    /// <summary>The 422 detail of a key that stored another message.</summary>
    public const string Reused = "was used for another message of this session; a repeated post must send the same body";

    /// <summary>
    /// Reads the key of <paramref name="request"/>: null when none was sent; the key when it is well-formed; otherwise
    /// null, with the problem added to <paramref name="validation"/>. The key is compared as sent (quotes included).
    /// </summary>
    public static string? Read(HttpRequest request, Platform.Validation validation)
    {
        if (!request.Headers.TryGetValue(Header, out var values))
        {
            return null;
        }
        if (values is not [{ Length: > 0 and <= MaxLength } key] || key.Any(c => c is < '!' or > '~'))
        {
            validation.Add(Header, Malformed);
            return null;
        }
        return key;
    }

    /// <summary>The message of <paramref name="sessionId"/> stored with <paramref name="key"/>, or null.</summary>
    public static Task<Message?> FindAsync(RaworcDbContext db, Guid sessionId, string key, CancellationToken cancellationToken) =>
        db.Messages.AsNoTracking().FirstOrDefaultAsync(m => m.SessionId == sessionId && m.IdempotencyKey == key, cancellationToken);

    /// <summary>
    /// True when <paramref name="stored"/> is what a post of <paramref name="role"/>, <paramref name="content"/> and
    /// <paramref name="metadata"/> stores: the same text and the same JSON value (the order of an object's members aside).
    /// </summary>
    public static bool IsSameMessage(Message stored, string role, string content, JsonObject? metadata) =>
        stored.Role == role && stored.Content == content && JsonNode.DeepEquals(JsonNode.Parse(stored.Metadata), metadata ?? []);
}
