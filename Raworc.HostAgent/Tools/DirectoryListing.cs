using System.Text;

namespace Raworc.HostAgent.Tools;

/// <summary>The editor's directory view: files and folders up to two levels deep, hidden entries left out.</summary>
internal static class DirectoryListing
{
    /// <summary>One path per line, folders with a trailing slash, sorted ordinally.</summary>
    public static string Render(string directory)
    {
        var text = new StringBuilder($"Files and directories up to 2 levels deep in {directory}, excluding hidden items:\n");
        Walk(directory, depth: 1, text);
        return text.ToString();
    }

    private static void Walk(string directory, int depth, StringBuilder text)
    {
        var entries = new DirectoryInfo(directory).EnumerateFileSystemInfos()
            .Where(entry => !entry.Name.StartsWith('.'))
            .OrderBy(entry => entry.Name, StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var isDirectory = entry is DirectoryInfo && entry.LinkTarget is null;
            text.Append(entry.FullName).Append(isDirectory ? "/\n" : "\n");
            if (isDirectory && depth < 2)
            {
                Walk(entry.FullName, depth + 1, text);
            }
        }
    }
}
