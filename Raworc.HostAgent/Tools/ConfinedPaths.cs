namespace Raworc.HostAgent.Tools;

/// <summary>
/// Resolves paths the model gives (absolute, or relative to the root) to real paths inside one root folder. Every
/// component is resolved as the kernel would (a symbolic link anywhere along the path, a link chain, <c>..</c> after a
/// link), and only the resulting real path is judged, so no link or <c>..</c> can lead the editor out of the root.
/// </summary>
public sealed class ConfinedPaths
{
    /// <summary>Most symbolic links one path may pass through, as Linux's <c>MAXSYMLINKS</c> (40); more is taken for a loop.</summary>
    public const int MaxLinks = 40;

    private readonly string _root;

    /// <summary>Creates the resolver; the root is created if missing and its real path is resolved once.</summary>
    /// <param name="root">The folder everything must stay in, e.g. <c>/session</c>.</param>
    public ConfinedPaths(string root)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        Directory.CreateDirectory(full);
        _root = RealPath(full, out _) ?? throw new IOException($"The root folder {full} has too many levels of symbolic links.");
    }

    /// <summary>The root folder's real path, without a trailing separator.</summary>
    public string Root => _root;

    /// <summary>Resolves <paramref name="path"/> to its real path and checks that it lies inside the root.</summary>
    /// <returns>The real absolute path, free of links and <c>..</c> (it need not exist: nothing past a missing folder can be a link).</returns>
    /// <exception cref="ToolException">The path is empty or holds NUL, loops through links, or its real path is outside the root.</exception>
    public string Resolve(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ToolException("A path is required.");
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ToolException("A path cannot contain a NUL character.");
        }

        var real = RealPath(Path.IsPathRooted(path) ? path : _root + Path.DirectorySeparatorChar + path, out var followedLink)
            ?? throw new ToolException($"The path '{path}' passes through more than {MaxLinks} symbolic links (a link loop?).");
        if (real == _root || real.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return real;
        }

        throw new ToolException(followedLink
            ? $"The path '{path}' goes through a symbolic link that leads outside {_root}."
            : $"The path '{path}' is outside {_root}; only files under {_root} can be used.");
    }

    /// <summary>
    /// <c>realpath(3)</c> that tolerates missing components: walks the components from <c>/</c>, replacing each link by
    /// its target (read one level at a time) and applying <c>..</c> to the real path reached so far.
    /// </summary>
    /// <returns>The real path, or null past <see cref="MaxLinks"/> links.</returns>
    private static string? RealPath(string absolute, out bool followedLink)
    {
        followedLink = false;
        var pending = new Stack<string>(Split(absolute).Reverse());
        var resolved = new List<string>();
        var links = 0;
        while (pending.TryPop(out var name))
        {
            if (name is "." or "")
            {
                continue;
            }

            if (name == "..")
            {
                if (resolved.Count > 0)
                {
                    resolved.RemoveAt(resolved.Count - 1);
                }

                continue;
            }

            var candidate = Prefix(resolved) + Path.DirectorySeparatorChar + name;
            if (LinkTarget(candidate) is not { } target)
            {
                resolved.Add(name);
                continue;
            }

            if (++links > MaxLinks)
            {
                return null;
            }

            followedLink = true;
            foreach (var part in Split(target).Reverse())
            {
                pending.Push(part);
            }

            if (Path.IsPathRooted(target))
            {
                resolved.Clear();
            }
        }

        return resolved.Count == 0 ? "/" : Prefix(resolved);
    }

    private static string[] Split(string path) => path.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);

    // "" for the file-system root, so that appending "/name" never doubles the separator.
    private static string Prefix(List<string> parts) => parts.Count == 0 ? "" : Path.DirectorySeparatorChar + string.Join(Path.DirectorySeparatorChar, parts);

    // The link's own target (readlink, one level), or null when the entry is no link, is missing, or its parent is no folder.
    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
