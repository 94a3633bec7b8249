using System.Buffers.Binary;
using Raworc.ApiService.Errors;

namespace Raworc.ApiService.Sessions;

/// <summary>
/// A keyset cursor over the session list's order (newest first: <c>created_at</c> descending, then <c>id</c>): the last
/// session of a page, written as 24 bytes (creation time in UTC ticks, then the id) in base64url (32 characters, no padding). <c>GET
/// /sessions?after=&lt;cursor&gt;</c> continues after it with one index range read, whatever the page's depth.
/// </summary>
/// <param name="CreatedAt">The last session's <c>created_at</c>.</param>
/// <param name="Id">The last session's id.</param>
public readonly record struct SessionCursor(DateTimeOffset CreatedAt, Guid Id)
{
    /// <summary>The header carrying the cursor of a full page's last session.</summary>
    public const string NextHeader = "X-Next-Cursor";

    /// <summary>The cursor after <paramref name="session"/>.</summary>
    public static SessionCursor After(Session session) => new(session.CreatedAt, session.Id);

    /// <summary>The cursor as text (base64url, 32 characters).</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[24];
        BinaryPrimitives.WriteInt64BigEndian(bytes, CreatedAt.UtcTicks);
        Id.TryWriteBytes(bytes[8..], bigEndian: true, out _);
        return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Reads a cursor written by <see cref="ToString"/>.</summary>
    /// <exception cref="ApiException">400 when <paramref name="text"/> is not one.</exception>
    public static SessionCursor Parse(string text)
    {
        Span<byte> bytes = stackalloc byte[24];
        var padded = text.Replace('-', '+').Replace('_', '/');
        if (text.Length != 32 || !Convert.TryFromBase64String(padded, bytes, out var written) || written != 24)
        {
            throw new ApiException(400, "after must be a cursor from X-Next-Cursor of an earlier page.");
        }
        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            throw new ApiException(400, "after must be a cursor from X-Next-Cursor of an earlier page.");
        }
        return new SessionCursor(new DateTimeOffset(ticks, TimeSpan.Zero), new Guid(bytes[8..], bigEndian: true));
    }
}
