using System.Buffers.Binary;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Checks a screenshot that came out of a computer before the API serves it: the computer is the session's, so its
/// answer is untrusted. A valid screenshot is a PNG (signature, then an <c>IHDR</c> chunk first and an <c>IEND</c> chunk
/// last) of exactly the desktop's configured size and under the size cap.
/// </summary>
public static class ScreenImage
{
    /// <summary>The eight bytes every PNG starts with.</summary>
    private static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The whole <c>IEND</c> chunk: length 0, type, CRC.</summary>
    private static ReadOnlySpan<byte> End => [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82];

    /// <summary>
    /// The largest screenshot the API accepts for a <paramref name="width"/>×<paramref name="height"/> screen, in bytes:
    /// an uncompressed 32-bit image plus 64 KiB (a PNG of a screen is far smaller), at most 64 MiB.
    /// </summary>
    public static int MaxBytes(int width, int height) => (int)Math.Min(64L * 1024 * 1024, 4L * width * height + 64 * 1024);

    /// <summary>Why <paramref name="png"/> is not a screenshot of a <paramref name="width"/>×<paramref name="height"/> screen, or null when it is one.</summary>
    /// <param name="png">The bytes the computer gave.</param>
    /// <param name="width">The desktop's width in pixels.</param>
    /// <param name="height">The desktop's height in pixels.</param>
    public static string? Check(ReadOnlySpan<byte> png, int width, int height)
    {
        if (png.Length >= MaxBytes(width, height))
        {
            return "too large";
        }
        // Signature (8) + IHDR chunk (4 length, 4 type, 13 data, 4 CRC) + IEND chunk (12).
        if (png.Length < 8 + 25 + 12 || !png[..8].SequenceEqual(Signature))
        {
            return "not a PNG";
        }
        var header = png[8..];
        if (BinaryPrimitives.ReadUInt32BigEndian(header) != 13 || !header[4..8].SequenceEqual("IHDR"u8))
        {
            return "not a PNG";
        }
        if (!png[^12..].SequenceEqual(End))
        {
            return "an incomplete PNG";
        }
        var (w, h) = (BinaryPrimitives.ReadUInt32BigEndian(header[8..]), BinaryPrimitives.ReadUInt32BigEndian(header[12..]));
        return w == width && h == height ? null : $"a PNG of {w}x{h}, not {width}x{height}";
    }
}
