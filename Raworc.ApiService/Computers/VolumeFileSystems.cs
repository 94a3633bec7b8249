using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Session volumes whose size the kernel holds (<see cref="ComputerOptions.VolumeFileSystems"/>): each is an ext4
/// filesystem in a sparse file <c>&lt;root&gt;/&lt;volume&gt;.ext4</c>, loop-mounted at <c>&lt;root&gt;/&lt;volume&gt;/</c> and
/// handed to Docker as a <c>local</c> volume that binds that folder. The engine has no per-volume quota of its own
/// (<c>--storage-opt size</c> needs overlay2 on xfs with project quotas), and a measurement after the fact let one
/// computer fill the host's disk in 0.1 s with <c>fallocate</c>.
/// </summary>
/// <remarks>
/// The mount folder is made immutable (<c>chattr +i</c>) before the filesystem is mounted on it: when it is not mounted
/// (the machine restarted), whatever binds it sees an empty folder nothing can write to, never the host's disk. The
/// mount does not outlive the machine; <see cref="EnsureMountedAsync"/> mounts it again (after <c>e2fsck -p</c>) before
/// anything uses the volume. Mount options: <c>nosuid,nodev,noatime</c>; <c>discard</c>, so blocks the session frees are
/// given back to the host (the loop device punches holes in the file; without it the file kept the most ever written);
/// and <c>noinit_itable</c>: the sparse file reads
/// as zeros where nothing was written, so the kernel need not zero the inode tables (which would write a quarter of a
/// GiB per million inodes to the host's disk for an empty volume).
/// </remarks>
public sealed partial class VolumeFileSystems(IOptions<ComputerOptions> options, ILogger logger)
{
    /// <summary>Value of <see cref="ComputerLabels.FileSystem"/> on such a volume.</summary>
    public const string Ext4 = "ext4";

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(2);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lazy<string?> _unavailable = new(() => WhyUnavailable(options.Value));
    private int _warned;

    /// <summary>
    /// Whether new volumes get a filesystem of their own: the setting is on, there is a size limit, and this machine
    /// can (the first time it cannot, the reason is logged as a warning).
    /// </summary>
    public bool Enabled
    {
        get
        {
            var settings = options.Value;
            if (!settings.VolumeFileSystems || settings.MaxVolumeMiB <= 0 || settings.Provider != ComputerProviders.Docker)
            {
                return false;
            }
            if (_unavailable.Value is { } reason)
            {
                if (Interlocked.Exchange(ref _warned, 1) == 0)
                {
                    LogUnavailable(reason);
                }
                return false;
            }
            return true;
        }
    }

    /// <summary>Where the volume <paramref name="name"/>'s filesystem is mounted under <paramref name="root"/>.</summary>
    public static string MountPointOf(string root, string name) => Path.Combine(root, name);

    /// <summary>The sparse file holding the volume <paramref name="name"/>'s filesystem under <paramref name="root"/>.</summary>
    public static string ImageOf(string root, string name) => ImageAt(MountPointOf(root, name));

    /// <summary>The sparse file of the filesystem mounted (or to be mounted) at <paramref name="mountPoint"/>: beside it, <c>.ext4</c> added.</summary>
    public static string ImageAt(string mountPoint) => mountPoint + ".ext4";

    /// <summary>
    /// Bytes of the host's disk the filesystem files of <paramref name="volumes"/> under <paramref name="root"/> hold now
    /// (their allocated blocks, <c>stx_blocks</c> × 512: a sparse file's holes and what <c>discard</c> gave back cost
    /// nothing). A volume without such a file (a measured engine volume, or one already removed) counts 0.
    /// </summary>
    public static long AllocatedBytes(string root, IEnumerable<string> volumes)
    {
        var buffer = new byte[256];
        long total = 0;
        if (!OperatingSystem.IsLinux())
        {
            return total;
        }
        foreach (var volume in volumes)
        {
            // statx(2): struct statx is the same on every architecture; stx_blocks is the u64 at byte 48.
            var path = Encoding.UTF8.GetBytes(ImageOf(root, volume) + "\0");
            if (StatX(AtCurrentDirectory, path, AtSymlinkNoFollow, StatXBlocks, buffer) == 0)
            {
                total += (long)BitConverter.ToUInt64(buffer, 48) * 512;
            }
        }
        return total;
    }

    private const int AtCurrentDirectory = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatXBlocks = 0x400;

    /// <summary><c>statx(2)</c> with a NUL-terminated UTF-8 path; returns 0 or -1.</summary>
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int StatX(int directory, byte[] path, int flags, uint mask, byte[] buffer);

    /// <summary>
    /// Makes and mounts the filesystem of a new volume: <see cref="ComputerOptions.MaxVolumeMiB"/> MiB,
    /// <see cref="ComputerOptions.MaxVolumeInodes"/> inodes (ext4's own count when 0), empty (no <c>lost+found</c>, so the
    /// engine copies the image's <c>/session</c> into it as into any new volume). A leftover of an earlier attempt under the
    /// same name (the API stopped before the engine's volume was made) is replaced.
    /// </summary>
    /// <returns>The <c>local</c> driver's options that bind the mounted folder.</returns>
    /// <exception cref="VolumeFileSystemException">A tool failed; nothing is left behind.</exception>
    public async Task<Dictionary<string, string>> CreateAsync(string name, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new VolumeFileSystemException("Volume filesystems are made on Linux only.");
        }
        var settings = options.Value;
        var root = settings.VolumeFileSystemsPath;
        var image = ImageOf(root, name);
        var mountPoint = MountPointOf(root, name);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await RemoveAsync(root, name, cancellationToken);
            Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.CreateDirectory(mountPoint);
            await RunAsync("chattr", ["+i", mountPoint], cancellationToken);
            using (var file = new FileStream(image, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                file.SetLength(settings.MaxVolumeMiB * 1024L * 1024L);
            }
            List<string> mkfs = ["-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1"];
            if (settings.MaxVolumeInodes > 0)
            {
                mkfs.AddRange(["-N", settings.MaxVolumeInodes.ToString(CultureInfo.InvariantCulture)]);
            }
            await RunAsync("mkfs.ext4", [.. mkfs, image], cancellationToken);
            await MountAsync(image, mountPoint, cancellationToken);
            Directory.Delete(Path.Combine(mountPoint, "lost+found"));
        }
        catch (Exception exception)
        {
            // Nothing half-made stays: a later attempt starts clean.
            await RemoveAsync(root, name, CancellationToken.None);
            if (exception is IOException or UnauthorizedAccessException)
            {
                throw new VolumeFileSystemException(
                    $"The session's filesystem could not be made ({FailureText.DescribeForLog(exception)}).", exception);
            }
            throw;
        }
        finally
        {
            _gate.Release();
        }
        return BindOptions(mountPoint);
    }

    /// <summary>
    /// The filesystem of a volume whose engine record is missing, if there is one with anything in it: checked, mounted
    /// (again, if need be), and handed back for a new record. An empty one (made by a create that stopped before the
    /// engine's volume was made) is removed instead. Nothing is ever deleted that holds a file.
    /// </summary>
    /// <returns>The <c>local</c> driver's options that bind it, or null when there is none to keep.</returns>
    /// <exception cref="VolumeFileSystemException">There is one, and it could not be checked or mounted.</exception>
    public async Task<Dictionary<string, string>?> AdoptAsync(string name, CancellationToken cancellationToken)
    {
        var root = options.Value.VolumeFileSystemsPath;
        var mountPoint = MountPointOf(root, name);
        if (!File.Exists(ImageAt(mountPoint)))
        {
            return null;
        }
        await EnsureMountedAsync(name, mountPoint, cancellationToken);
        if (Directory.EnumerateFileSystemEntries(mountPoint).Any())
        {
            LogAdopted(name);
            return BindOptions(mountPoint);
        }
        await RemoveOfVolumeAsync(name, mountPoint, cancellationToken);
        return null;
    }

    /// <summary>The <c>local</c> driver's options that bind the folder a filesystem is mounted at.</summary>
    private static Dictionary<string, string> BindOptions(string mountPoint) =>
        new() { ["type"] = "none", ["o"] = "bind", ["device"] = mountPoint };

    /// <summary>
    /// Mounts the volume's filesystem again if it is not mounted (after a restart of the machine), checking it first
    /// (<c>e2fsck -p</c>: what the journal does not mend, e2fsck's safe fixes do).
    /// </summary>
    /// <param name="name">The volume's name.</param>
    /// <param name="mountPoint">Where it was made to be mounted (the <c>device</c> its engine volume binds), which stays
    /// valid if <see cref="ComputerOptions.VolumeFileSystemsPath"/> changed since.</param>
    /// <param name="cancellationToken">Cancels the wait for other mounts and the tools.</param>
    /// <exception cref="VolumeFileSystemException">The file is missing, the check found damage it may not mend alone, or the mount failed.</exception>
    public async Task EnsureMountedAsync(string name, string mountPoint, CancellationToken cancellationToken)
    {
        CheckMountPoint(name, mountPoint);
        if (IsMounted(mountPoint))
        {
            return;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (IsMounted(mountPoint))
            {
                return;
            }
            var image = ImageAt(mountPoint);
            if (!File.Exists(image))
            {
                throw new VolumeFileSystemException("The session's filesystem is missing from this machine.");
            }
            if (!Directory.Exists(mountPoint))
            {
                // Its folder went with the machine's other state: made again, immutable, before anything is mounted on it.
                Directory.CreateDirectory(mountPoint);
                await RunAsync("chattr", ["+i", mountPoint], cancellationToken);
            }
            // 0: clean; 1: errors corrected. Anything else needs a person (e2fsck(8), "EXIT CODE").
            var check = await RunAsync("e2fsck", ["-p", image], cancellationToken, allowedExitCodes: [0, 1]);
            if (check != 0)
            {
                LogRepaired(name);
            }
            await MountAsync(image, mountPoint, cancellationToken);
            LogMountedAgain(name);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Unmounts and removes the volume <paramref name="name"/>'s filesystem under <paramref name="root"/>, if there is one;
    /// call it once the engine's volume is gone. A mount still busy is detached lazily (it goes once its last user does).
    /// </summary>
    public static Task RemoveAsync(string root, string name, CancellationToken cancellationToken) =>
        RemoveAtAsync(MountPointOf(root, name), cancellationToken);

    private static async Task RemoveAtAsync(string mountPoint, CancellationToken cancellationToken)
    {
        if (IsMounted(mountPoint))
        {
            if (await RunAsync("umount", [mountPoint], cancellationToken, allowedExitCodes: [0, 32]) != 0)
            {
                await RunAsync("umount", ["-l", mountPoint], cancellationToken);
            }
        }
        if (Directory.Exists(mountPoint))
        {
            await RunAsync("chattr", ["-i", mountPoint], cancellationToken);
            Directory.Delete(mountPoint);
        }
        if (File.Exists(ImageAt(mountPoint)))
        {
            File.Delete(ImageAt(mountPoint));
        }
    }

    /// <summary>
    /// What <see cref="RemoveAsync(string, string, CancellationToken)"/> does, under this instance's gate: at
    /// <paramref name="mountPoint"/> (the engine volume's <c>device</c>), or, when null, where this API makes them
    /// (what a create that stopped before the engine's volume was made leaves).
    /// </summary>
    public async Task RemoveOfVolumeAsync(string name, string? mountPoint, CancellationToken cancellationToken)
    {
        mountPoint ??= MountPointOf(options.Value.VolumeFileSystemsPath, name);
        CheckMountPoint(name, mountPoint);
        if (!Directory.Exists(mountPoint) && !File.Exists(ImageAt(mountPoint)))
        {
            return;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await RemoveAtAsync(mountPoint, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    // The mount point comes from the engine's record of the volume, which only the platform writes; still, nothing is
    // mounted or removed anywhere but at a folder named after the volume.
    private static void CheckMountPoint(string name, string mountPoint)
    {
        if (!Path.IsPathFullyQualified(mountPoint) || Path.GetFileName(mountPoint) != name || mountPoint.Contains("/../", StringComparison.Ordinal))
        {
            throw new VolumeFileSystemException("The session volume's filesystem is not where volume filesystems are made.");
        }
    }

    /// <summary>Whether a filesystem is mounted at <paramref name="path"/> in this process's mount namespace.</summary>
    public static bool IsMounted(string path)
    {
        // /proc/self/mountinfo (proc(5)): the fifth field is the mount point, with space, tab, newline and backslash as
        // octal escapes.
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ', 6);
            if (fields.Length > 4 && Unescape(fields[4]) == path)
            {
                return true;
            }
        }
        return false;
    }

    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }
        var text = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length)
            {
                text.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }
        return text.ToString();
    }

    private static Task MountAsync(string image, string mountPoint, CancellationToken cancellationToken) =>
        RunAsync("mount", ["-t", "ext4", "-o", "loop,nosuid,nodev,noatime,noinit_itable,discard", image, mountPoint], cancellationToken);

    /// <summary>Why this machine cannot make volume filesystems, or null when it can.</summary>
    private static string? WhyUnavailable(ComputerOptions settings)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "the API does not run on Linux";
        }
        if (!Environment.IsPrivilegedProcess)
        {
            return "the API does not run as root (mounting needs it)";
        }
        if (!settings.DockerEndpoint.StartsWith("unix://", StringComparison.Ordinal))
        {
            return "the engine is not on the API's machine (Computers:DockerEndpoint is not a unix:// socket)";
        }
        foreach (var tool in new[] { "mkfs.ext4", "e2fsck", "chattr", "mount", "umount" })
        {
            if (FindTool(tool) is null)
            {
                return $"{tool} is not installed";
            }
        }
        return null;
    }

    private static string? FindTool(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
            .Select(folder => Path.Combine(folder, tool))
            .FirstOrDefault(File.Exists);

    /// <returns>The tool's exit code, one of <paramref name="allowedExitCodes"/> (only 0 when none are given).</returns>
    private static async Task<int> RunAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancellationToken,
        IReadOnlyCollection<int>? allowedExitCodes = null)
    {
        var start = new ProcessStartInfo(FindTool(tool) ?? tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new VolumeFileSystemException($"{tool} could not be started.", tool: tool);
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ToolTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new VolumeFileSystemException($"{tool} did not finish in time.", tool: tool);
        }
        await Task.WhenAll(output, error);
        if (!(allowedExitCodes ?? [0]).Contains(process.ExitCode))
        {
            var said = (await error).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
            throw new VolumeFileSystemException($"{tool} exited with code {process.ExitCode}{(said.Length > 0 ? ": " + said : "")}.", tool: tool);
        }
        return process.ExitCode;
    }

    [LoggerMessage(LogLevel.Warning, "Session volumes are measured, not bounded by a filesystem of their own (Computers:VolumeFileSystems): {Reason}")]
    private partial void LogUnavailable(string reason);

    [LoggerMessage(LogLevel.Warning, "The filesystem of volume {Volume} had errors, which e2fsck mended")]
    private partial void LogRepaired(string volume);

    [LoggerMessage(LogLevel.Warning, "The filesystem of volume {Volume} was found without the engine's volume; the volume was made again over it")]
    private partial void LogAdopted(string volume);

    [LoggerMessage(LogLevel.Information, "The filesystem of volume {Volume} was mounted again")]
    private partial void LogMountedAgain(string volume);
}

/// <summary>
/// A session volume's own filesystem could not be made, mounted or checked. The message says which tool failed and quotes
/// the first line it wrote, which may name a path of this machine; users and logs get <see cref="FailureText"/>'s words
/// instead, which name the tool alone.
/// </summary>
public sealed class VolumeFileSystemException(string message, Exception? inner = null, string? tool = null) : Exception(message, inner)
{
    /// <summary>The program that failed (<c>mkfs.ext4</c>, <c>e2fsck</c>, <c>chattr</c>, <c>mount</c> or <c>umount</c>), or null when none did.</summary>
    public string? Tool { get; } = tool;
}
