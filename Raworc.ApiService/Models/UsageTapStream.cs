namespace Raworc.ApiService.Models;

/// <summary>
/// The response body while the gateway forwards an answer: every chunk goes on to the caller at once (flushes
/// included, so server-sent events stay incremental) and is shown to a <see cref="ModelUsageMeter"/> on the way.
/// Write-only. The meter learns the answer's content type at the first write, when the headers are final.
/// </summary>
/// <param name="inner">The real response body.</param>
/// <param name="response">The response whose content type chooses how the meter reads.</param>
/// <param name="meter">Reads the usage.</param>
public sealed class UsageTapStream(Stream inner, HttpResponse response, ModelUsageMeter meter) : Stream
{
    private bool _begun;

    /// <inheritdoc />
    public override bool CanRead => false;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Observe(buffer);
        inner.Write(buffer);
    }

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Observe(buffer.Span);
        return inner.WriteAsync(buffer, cancellationToken);
    }

    /// <inheritdoc />
    public override void Flush() => inner.Flush();

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    private void Observe(ReadOnlySpan<byte> bytes)
    {
        if (!_begun)
        {
            _begun = true;
            meter.Begin(response.ContentType);
        }
        meter.Append(bytes);
    }
}
