using System.IO.Enumeration;
using System.Text;

namespace Raworc.HostAgent.Tools;

/// <summary>
/// The editor's directory view: files and folders up to two levels deep, hidden entries left out, bounded while it is
/// built. The session's code can make a folder of a million entries (the volume's inode limit allows that many); listing
/// it whole, every entry an object held for the sort and a line of text, would take hundreds of MiB of the agent's 512.
/// </summary>
internal static class DirectoryListing
{
    /// <summary>Most entries listed of one folder: the first this many in ordinal order; the others are counted in one line.</summary>
    public const int MaxEntriesPerFolder = 1_000;

    /// <summary>
    /// One path per line, folders with a trailing slash, sorted ordinally. Of a folder with more than
    /// <see cref="MaxEntriesPerFolder"/> entries only the first are listed, then a line with how many more it holds; the
    /// walk stops before the text would pass <paramref name="maxChars"/> characters, and a last line says where it stopped.
    /// </summary>
    /// <param name="directory">The folder's full path.</param>
    /// <param name="maxChars">The most characters returned (at least 500).</param>
    public static string Render(string directory, int maxChars)
    {
        var text = new StringBuilder($"Files and directories up to 2 levels deep in {directory}, excluding hidden items:\n");
        var cut = $"… the listing stops here, at {maxChars} characters; use bash (ls, find) for the rest.\n";
        if (!Walk(directory, depth: 1, text, Math.Max(0, maxChars - cut.Length)))
        {
            text.Append(cut);
        }

        return text.ToString();
    }

    // False when the text is full.
    private static bool Walk(string directory, int depth, StringBuilder text, int limit)
    {
        var (entries, more) = FirstEntries(directory);
        foreach (var (name, isDirectory) in entries)
        {
            var path = Path.Join(directory, name);
            if (!TryAppend(text, limit, isDirectory ? $"{path}/\n" : $"{path}\n")
                || (isDirectory && depth < 2 && !Walk(path, depth + 1, text, limit)))
            {
                return false;
            }
        }

        return more == 0 || TryAppend(text, limit, $"… and {more} more in {directory}/ (only the first {MaxEntriesPerFolder} by name are listed)\n");
    }

    private static bool TryAppend(StringBuilder text, int limit, string line)
    {
        if (text.Length + line.Length > limit)
        {
            return false;
        }

        text.Append(line);
        return true;
    }

    // The first MaxEntriesPerFolder entries by name (a link is no folder here, so it is never walked into), kept in a bounded
    // heap whose top is the greatest name kept, and how many other entries there are. A folder costs one pass over its
    // names, never all of them at once.
    private static (List<(string Name, bool IsDirectory)> Entries, long More) FirstEntries(string directory)
    {
        var kept = new PriorityQueue<(string Name, bool IsDirectory), string>(Comparer<string>.Create((a, b) => string.CompareOrdinal(b, a)));
        long count = 0;
        var entries = new FileSystemEnumerable<(string Name, bool IsDirectory)>(directory,
            (ref FileSystemEntry entry) => (entry.FileName.ToString(), entry.IsDirectory && (entry.Attributes & FileAttributes.ReparsePoint) == 0),
            new EnumerationOptions { AttributesToSkip = 0 })
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.FileName.StartsWith('.'),
        };
        foreach (var entry in entries)
        {
            count++;
            if (kept.Count < MaxEntriesPerFolder)
            {
                kept.Enqueue(entry, entry.Name);
            }
            else if (string.CompareOrdinal(entry.Name, kept.Peek().Name) < 0)
            {
                kept.DequeueEnqueue(entry, entry.Name);
            }
        }

        var first = kept.UnorderedItems.Select(item => item.Element).OrderBy(item => item.Name, StringComparer.Ordinal).ToList();
        return (first, count - first.Count);
    }
}
