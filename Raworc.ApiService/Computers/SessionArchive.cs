using System.Formats.Tar;
using System.Text;

namespace Raworc.ApiService.Computers;

/// <summary>
/// Builds the tar stream that seeds a new volume, extracted by the engine at <c>/session</c>.
/// Every entry belongs to uid/gid 1000 (the image's user <c>raworc</c>), because the engine keeps a
/// tar entry's owner and the agent must be able to read and change everything it is given.
/// </summary>
internal static class SessionArchive
{
    /// <summary>Uid and gid of the user <c>raworc</c> in the Host agent image.</summary>
    public const int RaworcUid = 1000;

    /// <summary>The four folders of <c>/session</c>; secrets are readable by their owner only.</summary>
    public static readonly IReadOnlyList<(string Name, UnixFileMode Mode)> Folders =
    [
        ("code", Modes.Directory),
        ("data", Modes.Directory),
        ("secrets", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute),
        ("logs", Modes.Directory),
    ];

    /// <summary>The folders and the start's Host token only: what an existing volume is given, so nothing in it is overwritten.</summary>
    public static MemoryStream Layout(string? hostToken) => Build(spec: null, hostToken);

    /// <summary>The folders, <c>code/instructions.md</c>, <c>code/setup.sh</c>, <c>secrets/&lt;NAME&gt;</c> (0600) and the Host or pool token.</summary>
    public static MemoryStream Seed(ComputerSpec spec) => Build(spec, spec.HostToken);

    private static MemoryStream Build(ComputerSpec? spec, string? hostToken)
    {
        var stream = new MemoryStream();
        using (var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, mode) in Folders)
            {
                tar.WriteEntry(Entry(TarEntryType.Directory, name + "/", mode, content: null));
            }
            if (hostToken is not null || spec?.PoolToken is not null)
            {
                tar.WriteEntry(Entry(TarEntryType.Directory, Path.GetDirectoryName(ComputerSpec.HostTokenPath) + "/", Modes.Private, content: null));
            }
            if (hostToken is not null)
            {
                tar.WriteEntry(Entry(TarEntryType.RegularFile, ComputerSpec.HostTokenPath, UnixFileMode.UserRead, hostToken));
            }
            if (spec?.PoolToken is { } poolToken)
            {
                tar.WriteEntry(Entry(TarEntryType.RegularFile, ComputerSpec.PoolTokenPath, UnixFileMode.UserRead, poolToken));
            }
            if (spec is not null)
            {
                if (spec.Instructions is not null)
                {
                    tar.WriteEntry(Entry(TarEntryType.RegularFile, "code/instructions.md", Modes.File, spec.Instructions));
                }
                if (spec.Setup is not null)
                {
                    tar.WriteEntry(Entry(TarEntryType.RegularFile, "code/setup.sh", Modes.Executable, spec.Setup));
                }
                foreach (var (name, value) in spec.Secrets)
                {
                    tar.WriteEntry(Entry(TarEntryType.RegularFile, "secrets/" + name, Modes.Secret, value));
                }
            }
        }
        stream.Position = 0;
        return stream;
    }

    /// <summary>
    /// What a claimed warm computer's agent writes into its (empty) volume: <c>code/instructions.md</c>, <c>code/setup.sh</c>
    /// and <c>secrets/&lt;NAME&gt;</c>, with the same contents and modes <see cref="Seed"/> gives a new volume.
    /// </summary>
    public static List<HandoverFile> Files(string? instructions, string? setup, IReadOnlyDictionary<string, string> secrets)
    {
        var files = new List<HandoverFile>();
        if (instructions is not null)
        {
            files.Add(new HandoverFile("code/instructions.md", (int)Modes.File, instructions));
        }
        if (setup is not null)
        {
            files.Add(new HandoverFile("code/setup.sh", (int)Modes.Executable, setup));
        }
        files.AddRange(secrets.Select(secret => new HandoverFile("secrets/" + secret.Key, (int)Modes.Secret, secret.Value)));
        return files;
    }

    private static PaxTarEntry Entry(TarEntryType type, string name, UnixFileMode mode, string? content)
    {
        var entry = new PaxTarEntry(type, name)
        {
            Uid = RaworcUid,
            Gid = RaworcUid,
            Mode = mode,
            ModificationTime = DateTimeOffset.UtcNow,
        };
        if (content is not null)
        {
            // No byte-order mark: scripts and secrets must be byte-exact.
            entry.DataStream = new MemoryStream(new UTF8Encoding(false).GetBytes(content));
        }
        return entry;
    }

    private static class Modes
    {
        public const UnixFileMode Directory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        public const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        public const UnixFileMode Executable = Directory;
        public const UnixFileMode Secret = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        public const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    }
}
