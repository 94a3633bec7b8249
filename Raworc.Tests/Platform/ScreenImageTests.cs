using System.Buffers.Binary;
using Raworc.ApiService.Computers;

namespace Raworc.Tests.Platform;

/// <summary>The API's check of a screenshot that came out of a computer (untrusted bytes).</summary>
public sealed class ScreenImageTests
{
    [Fact]
    public void APngOfTheDesktopsSizePasses() => Assert.Null(ScreenImage.Check(Png(1280, 800), 1280, 800));

    [Fact]
    public void AnythingElseIsRefusedWithTheReason()
    {
        Assert.Equal("a PNG of 1024x768, not 1280x800", ScreenImage.Check(Png(1024, 768), 1280, 800));
        Assert.Equal("not a PNG", ScreenImage.Check("<html>not a screen</html>........................."u8, 1280, 800));
        Assert.Equal("not a PNG", ScreenImage.Check([], 1280, 800));
        Assert.Equal("an incomplete PNG", ScreenImage.Check([.. Png(1280, 800)[..^12], .. new byte[12]], 1280, 800));
        var huge = new byte[ScreenImage.MaxBytes(1280, 800)];
        Png(1280, 800).CopyTo(huge, 0);
        Assert.Equal("too large", ScreenImage.Check(huge, 1280, 800));
        Assert.Equal(4 * 1280 * 800 + 64 * 1024, ScreenImage.MaxBytes(1280, 800));
    }

    // Signature, an IHDR chunk with the size (CRC not checked), no data, IEND.
    private static byte[] Png(int width, int height)
    {
        var png = new List<byte> { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' };
        var size = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(size, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(size.AsSpan(4), (uint)height);
        png.AddRange(size);
        png.AddRange([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        png.AddRange([0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]);
        return [.. png];
    }
}
