using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Raworc.HostAgent;

/// <summary>
/// Reads files that the session's own code can write or replace (its instructions, the setup status, files the model asks
/// the editor for), without letting it stall the agent: a named pipe (FIFO), socket or device in place of a file is not
/// read at all, and a regular file only up to a bound. <see cref="File.ReadAllText(string)"/> would block for ever on a
/// FIFO that nobody writes (opening one for reading waits for a writer), so the file is opened with <c>O_NONBLOCK</c>,
/// which returns at once for a FIFO, and read only when the open descriptor is a regular file (<c>statx(2)</c>). Before,
/// "seekable" stood for "regular", but a character device such as <c>/dev/zero</c> is seekable and never ends.
/// </summary>
internal static class SessionFiles
{
    // open(2) flags on Linux (x86-64 and arm64 alike, asm-generic/fcntl.h): O_RDONLY, O_NONBLOCK, O_CLOEXEC, O_WRONLY, O_CREAT.
    private const int ReadOnly = 0;
    private const int NonBlocking = 0x800;
    private const int CloseOnExec = 0x80000;
    private const int WriteOnly = 1;
    private const int Create = 0x40;
    // 0666: the umask takes off what it does, as for File.WriteAllText.
    private const int CreateMode = 0x1B6;
    // errno: ENXIO (a FIFO opened for writing with no reader, O_NONBLOCK), EISDIR.
    private const int NoDeviceOrAddress = 6;
    private const int IsADirectory = 21;
    // statx(2): AT_EMPTY_PATH, STATX_TYPE; S_IFMT and S_IFREG of stx_mode.
    private const int AtEmptyPath = 0x1000;
    private const uint StatXType = 0x1;
    private const int FileTypeMask = 0xF000;
    private const int RegularFileType = 0x8000;
    private static readonly byte[] EmptyPath = [0];

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
            using var stream = OpenRegular(path, FileAccess.Read);
            if (stream is null)
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

    /// <summary>
    /// Opens <paramref name="path"/> for reading, or for writing (created, mode 0666 less the umask, when missing; not
    /// truncated), without waiting: <c>O_NONBLOCK</c>, so neither a FIFO with no writer (reading) nor one with no reader
    /// (writing, which then fails with <c>ENXIO</c>) makes the caller wait. The file is checked on the open descriptor, so what
    /// the session's code swaps in after a check is what is refused.
    /// </summary>
    /// <param name="path">The file; a symbolic link is followed.</param>
    /// <param name="access"><see cref="FileAccess.Read"/> or <see cref="FileAccess.Write"/>.</param>
    /// <returns>The open file; null when it is not a regular file (a FIFO, socket, device or folder).</returns>
    /// <exception cref="IOException">The file could not be opened (missing when read, no permission…); the message is the system's.</exception>
    public static FileStream? OpenRegular(string path, FileAccess access)
    {
        var flags = (access == FileAccess.Read ? ReadOnly : WriteOnly | Create) | NonBlocking | CloseOnExec;
        var descriptor = Open(Encoding.UTF8.GetBytes(path + "\0"), flags, CreateMode);
        if (descriptor < 0)
        {
            var error = Marshal.GetLastPInvokeError();
            return error is NoDeviceOrAddress or IsADirectory
                ? null
                : throw new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(error)}");
        }
        var handle = new SafeFileHandle(descriptor, ownsHandle: true);
        if (!IsRegular(handle))
        {
            handle.Dispose();
            return null;
        }
        try
        {
            return new FileStream(handle, access, bufferSize: 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    // Whether the open descriptor is a regular file, by statx(2) on the descriptor itself (AT_EMPTY_PATH). Not lseek: a
    // character device such as /dev/zero is seekable and never ends. struct statx has one layout on every architecture:
    // stx_mode is the 16-bit field at byte 28.
    private static bool IsRegular(SafeFileHandle handle)
    {
        var buffer = new byte[256];
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (StatX(handle.DangerousGetHandle().ToInt32(), EmptyPath, AtEmptyPath, StatXType, buffer) != 0)
            {
                return false;
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
        return (BitConverter.ToUInt16(buffer, 28) & FileTypeMask) == RegularFileType;
    }

    /// <summary><c>open(2)</c> with a NUL-terminated UTF-8 path and the mode a created file gets; returns the descriptor or -1.</summary>
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open(byte[] path, int flags, int mode);

    /// <summary><c>statx(2)</c>; returns 0 or -1.</summary>
    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int StatX(int directory, byte[] path, int flags, uint mask, byte[] buffer);
}
