using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Raworc.HostAgent;

/// <summary>
/// Reads files that the session's own code can write or replace (its instructions, the setup status, files the model asks
/// the editor for), without letting it stall the agent: a named pipe (FIFO), socket or device in place of a file is not
/// read at all, and a regular file only up to a bound. <see cref="File.ReadAllText(string)"/> would block for ever on a
/// FIFO that nobody writes (opening one for reading waits for a writer), so the file is opened with <c>O_NONBLOCK</c>,
/// which returns at once for a FIFO, and read only when it is seekable, i.e. a regular file (pipes, sockets and character
/// devices are not; <c>lseek(2)</c>).
/// </summary>
internal static class SessionFiles
{
    // open(2) flags on Linux (x86-64 and arm64 alike, asm-generic/fcntl.h): O_RDONLY, O_NONBLOCK, O_CLOEXEC.
    private const int ReadOnly = 0;
    private const int NonBlocking = 0x800;
    private const int CloseOnExec = 0x80000;

    /// <summary>
    /// The text of a regular file, UTF-8 (invalid bytes become U+FFFD), at most <paramref name="maxBytes"/> bytes of it;
    /// null when the path is missing, unreadable, a directory, or not a regular file (a FIFO, socket or device).
    /// </summary>
    /// <param name="path">The file; a symbolic link is followed.</param>
    /// <param name="maxBytes">Most bytes read from the start of the file; the rest is left unread.</param>
    public static string? TryReadText(string path, int maxBytes)
    {
        try
        {
            using var stream = OpenWithoutWaiting(path);
            if (stream is not { CanSeek: true })
            {
                return null;
            }
            var buffer = new byte[(int)Math.Min(maxBytes, stream.Length)];
            var length = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="path"/> exists and is something other than a regular file or a directory (a FIFO, socket or device).</summary>
    /// <param name="path">The path; a symbolic link is followed.</param>
    public static bool IsSpecial(string path)
    {
        if (Directory.Exists(path) || !File.Exists(path))
        {
            return false;
        }
        try
        {
            using var stream = OpenWithoutWaiting(path);
            return stream is { CanSeek: false };
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return true;
        }
    }

    // The file opened for reading with O_NONBLOCK (a FIFO opens at once); null when it cannot be opened.
    private static FileStream? OpenWithoutWaiting(string path)
    {
        var descriptor = Open(Encoding.UTF8.GetBytes(path + "\0"), ReadOnly | NonBlocking | CloseOnExec);
        if (descriptor < 0)
        {
            return null;
        }
        var handle = new SafeFileHandle(descriptor, ownsHandle: true);
        try
        {
            return new FileStream(handle, FileAccess.Read, bufferSize: 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary><c>open(2)</c> with a NUL-terminated UTF-8 path; returns the descriptor or -1.</summary>
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open(byte[] path, int flags);
}
