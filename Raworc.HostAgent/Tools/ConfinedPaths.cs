namespace Raworc.HostAgent.Tools;

/// <summary>
/// Resolves paths the model gives (absolute, or relative to the root) to real paths inside one root folder,
/// refusing <c>..</c> escapes and symbolic links whose target lies outside the root.
/// </summary>
public sealed class ConfinedPaths
{
    private readonly string _root;

    /// <summary>Creates the resolver; the root is created if missing and its own links are resolved once.</summary>
    /// <param name="root">The folder everything must stay in, e.g. <c>/session</c>.</param>
    public ConfinedPaths(string root)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        Directory.CreateDirectory(full);
        _root = new DirectoryInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
    }

    /// <summary>The root folder, without a trailing separator.</summary>
    public string Root => _root;

    /// <summary>Resolves <paramref name="path"/> to a real path inside the root, following links as it goes.</summary>
    /// <returns>The resolved absolute path (it need not exist).</returns>
    /// <exception cref="ToolException">The path is empty, or it or a link along it leads outside the root.</exception>
    public string Resolve(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ToolException("A path is required.");
        }

        var lexical = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(_root, path));
        if (!IsInside(lexical))
        {
            throw new ToolException($"The path '{path}' is outside {_root}; only files under {_root} can be used.");
        }

        var current = _root;
        var relative = Path.GetRelativePath(_root, lexical);
        if (relative == ".")
        {
            return _root;
        }

        foreach (var segment in relative.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, segment);
            var info = new FileInfo(next);
            if (info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true)?.FullName
                    ?? Path.GetFullPath(info.LinkTarget, current);
                if (!IsInside(target))
                {
                    throw new ToolException($"The path '{path}' goes through a symbolic link that leads outside {_root}.");
                }

                next = target;
            }

            current = next;
        }

        return current;
    }

    private bool IsInside(string fullPath) =>
        fullPath == _root || fullPath.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
