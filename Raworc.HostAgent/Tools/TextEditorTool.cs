using System.Text;

namespace Raworc.HostAgent.Tools;

/// <summary>
/// The <c>str_replace_based_edit_tool</c>: the commands of Anthropic's text-editor tool (<c>view</c>, <c>create</c>,
/// <c>str_replace</c>, <c>insert</c>, <c>undo_edit</c>) on files under one root folder (<see cref="ConfinedPaths"/>).
/// Every command either succeeds or throws <see cref="ToolException"/> with a reason meant for the model.
/// </summary>
/// <param name="paths">The root the tool is confined to.</param>
/// <param name="maxOutputChars">The most characters a <c>view</c> returns (head and tail kept); default 30,000.</param>
/// <param name="maxUndoBytes">
/// The most bytes of earlier file contents kept for <c>undo_edit</c>, over all files together (default
/// <see cref="MaxUndoBytes"/>); past it the oldest are dropped, and an undo that would need one is refused.
/// </param>
public sealed class TextEditorTool(ConfinedPaths paths, int maxOutputChars = 30_000, long maxUndoBytes = TextEditorTool.MaxUndoBytes)
{
    /// <summary>The tool name the model calls.</summary>
    public const string Name = "str_replace_based_edit_tool";

    /// <summary>The largest file the editor reads: 10 MiB.</summary>
    public const long MaxFileBytes = 10 * 1024 * 1024;

    /// <summary>
    /// The default bound of the undo history: 32 MiB of earlier file contents (three versions of a file of
    /// <see cref="MaxFileBytes"/>). Each entry counts its bytes plus <see cref="UndoEntryBytes"/>.
    /// </summary>
    public const long MaxUndoBytes = 32 * 1024 * 1024;

    /// <summary>What an entry of the undo history counts beyond its contents' bytes (so that many tiny edits are bounded too).</summary>
    public const long UndoEntryBytes = 64;

    // Every edit's earlier contents, oldest first, over all files: the file's bytes as they were read (null: the file did not
    // exist, undo deletes it). Unbounded, a model asked for many edits of a big file kept up to 10 MiB per edit (20 MiB as
    // text) until the agent ran out of the computer's memory; past maxUndoBytes the oldest entries are dropped.
    private readonly LinkedList<(string File, byte[]? Content)> _history = new();
    // Files of which at least one entry was dropped, so an undo past what is left says why.
    private readonly HashSet<string> _dropped = new(StringComparer.Ordinal);
    private long _historyBytes;
    private readonly Lock _gate = new();

    /// <summary>The root the tool is confined to.</summary>
    public ConfinedPaths Paths => paths;

    /// <summary>
    /// <c>view</c>: a file with 1-based line numbers (optionally lines <c>[start, end]</c>, end -1 = last), or a directory listing
    /// two levels deep (<see cref="DirectoryListing"/>: at most its first 1,000 entries of each folder, cut at the output's length).
    /// </summary>
    public string View(string path, int[]? viewRange = null)
    {
        var full = paths.Resolve(path);
        if (Directory.Exists(full))
        {
            return CappedText.Cap(DirectoryListing.Render(full, maxOutputChars), maxOutputChars);
        }

        var lines = ReadLines(full, path);
        var start = 1;
        var end = lines.Length;
        if (viewRange is { Length: > 0 })
        {
            if (viewRange.Length != 2)
            {
                throw new ToolException("view_range must be two numbers: [start_line, end_line] (end_line -1 means the last line).");
            }

            start = viewRange[0];
            end = viewRange[1] == -1 ? lines.Length : viewRange[1];
            if (start < 1 || start > Math.Max(1, lines.Length) || end < start || end > lines.Length)
            {
                throw new ToolException($"view_range [{viewRange[0]}, {viewRange[1]}] is not within the file's {lines.Length} lines.");
            }
        }

        var text = new StringBuilder();
        for (var i = start; i <= end && i <= lines.Length; i++)
        {
            text.Append(i.ToString().PadLeft(6)).Append('\t').Append(lines[i - 1]).Append('\n');
        }

        return CappedText.Cap(text.ToString(), maxOutputChars);
    }

    /// <summary><c>create</c>: writes <paramref name="fileText"/> to a file (parents created), replacing any content.</summary>
    public string Create(string path, string? fileText)
    {
        if (fileText is null)
        {
            throw new ToolException("create needs file_text.");
        }

        var full = paths.Resolve(path);
        if (Directory.Exists(full))
        {
            throw new ToolException($"{full} is a directory.");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        // Read through ReadBytes, like every read of the editor: a pipe the session's code left here would make a plain read
        // wait for ever, and a file of any size would be read whole into the agent's memory.
        Remember(full, File.Exists(full) ? ReadBytes(full, path) : null);
        WriteText(full, path, fileText);
        return $"File created successfully at: {full}";
    }

    /// <summary><c>str_replace</c>: replaces the one occurrence of <paramref name="oldStr"/>; zero or several occurrences are refused.</summary>
    public string StrReplace(string path, string? oldStr, string? newStr)
    {
        if (string.IsNullOrEmpty(oldStr))
        {
            throw new ToolException("str_replace needs a non-empty old_str.");
        }

        var full = paths.Resolve(path);
        var before = ReadBytes(full, path);
        var content = Decode(before);
        var first = content.IndexOf(oldStr, StringComparison.Ordinal);
        if (first < 0)
        {
            throw new ToolException($"No replacement was performed: old_str did not appear verbatim in {full}.");
        }

        var second = content.IndexOf(oldStr, first + 1, StringComparison.Ordinal);
        if (second >= 0)
        {
            var count = CountOccurrences(content, oldStr);
            throw new ToolException($"No replacement was performed: old_str appears {count} times in {full} (first on lines {LineOf(content, first)} and {LineOf(content, second)}); include more context to make it unique.");
        }

        Remember(full, before);
        WriteText(full, path, string.Concat(content.AsSpan(0, first), newStr ?? "", content.AsSpan(first + oldStr.Length)));
        return $"The file {full} has been edited: one occurrence replaced at line {LineOf(content, first)}.";
    }

    /// <summary><c>insert</c>: inserts <paramref name="newStr"/> after line <paramref name="insertLine"/> (0 = at the top).</summary>
    public string Insert(string path, int? insertLine, string? newStr)
    {
        if (insertLine is null || newStr is null)
        {
            throw new ToolException("insert needs insert_line and new_str.");
        }

        var full = paths.Resolve(path);
        var before = ReadBytes(full, path);
        var content = Decode(before);
        var lines = SplitLines(content);
        if (insertLine < 0 || insertLine > lines.Count)
        {
            throw new ToolException($"insert_line {insertLine} is not within 0…{lines.Count}.");
        }

        var endsWithNewline = content.EndsWith('\n');
        lines.InsertRange(insertLine.Value, SplitLines(newStr));
        Remember(full, before);
        WriteText(full, path, string.Join('\n', lines) + (endsWithNewline || content.Length == 0 ? "\n" : ""));
        return $"The file {full} has been edited: text inserted after line {insertLine}.";
    }

    /// <summary>
    /// <c>undo_edit</c>: restores the file, byte for byte, as it was before the last edit this tool made to it. Refused when
    /// the tool made none, or when the ones left were dropped from the history (<see cref="MaxUndoBytes"/>).
    /// </summary>
    public string UndoEdit(string path)
    {
        var full = paths.Resolve(path);
        byte[]? previous;
        lock (_gate)
        {
            var entry = _history.Last;
            while (entry is not null && entry.Value.File != full)
            {
                entry = entry.Previous;
            }

            if (entry is null)
            {
                throw new ToolException(_dropped.Contains(full)
                    ? $"No edit to undo for {full}: the editor keeps the earlier contents of its last edits up to {maxUndoBytes} bytes over all files, and this file's older ones were dropped."
                    : $"No edit to undo for {full}.");
            }

            previous = entry.Value.Content;
            _history.Remove(entry);
            _historyBytes -= SizeOf(previous);
        }

        if (previous is null)
        {
            File.Delete(full);
            return $"Undid the creation of {full}: the file was removed.";
        }

        WriteBytes(full, path, previous);
        return $"Last edit to {full} undone.";
    }

    private void Remember(string full, byte[]? content)
    {
        lock (_gate)
        {
            _history.AddLast((full, content));
            _historyBytes += SizeOf(content);
            while (_historyBytes > maxUndoBytes && _history.First is { } oldest)
            {
                _history.RemoveFirst();
                _historyBytes -= SizeOf(oldest.Value.Content);
                _dropped.Add(oldest.Value.File);
            }
        }
    }

    private static long SizeOf(byte[]? content) => (content?.Length ?? 0) + UndoEntryBytes;

    // The file's text (UTF-8, a byte order mark dropped, as File.ReadAllText).
    private static string ReadText(string full, string path) => Decode(ReadBytes(full, path));

    private static string Decode(byte[] bytes)
    {
        using var reader = new StreamReader(new MemoryStream(bytes), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    // The file's bytes, read from one descriptor that was checked to be a regular file of at most MaxFileBytes: the session's
    // code can put a FIFO (a plain open waits for a writer for ever) or, through a link swapped in after Resolve, a device that
    // never ends where the model reads.
    private static byte[] ReadBytes(string full, string path)
    {
        if (!File.Exists(full))
        {
            throw new ToolException($"The file '{path}' does not exist.");
        }

        using var stream = SessionFiles.OpenRegular(full, FileAccess.Read) ?? throw NotRegular(path);
        var length = stream.Length;
        if (length > MaxFileBytes)
        {
            throw new ToolException($"The file '{path}' has {length} bytes; the editor handles files up to {MaxFileBytes} bytes. Use bash (head, sed, grep) instead.");
        }

        // Never more than the length checked, should the file grow meanwhile.
        var buffer = new byte[length];
        var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        return read == buffer.Length ? buffer : buffer[..read];
    }

    // Replaces the file's content with text (UTF-8, no byte order mark, as File.WriteAllText), creating it when missing,
    // through one descriptor opened without waiting and checked to be a regular file: a FIFO the session's code put there
    // would make a plain open wait for a reader for ever.
    private static void WriteText(string full, string path, string text) =>
        WriteBytes(full, path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));

    private static void WriteBytes(string full, string path, byte[] bytes)
    {
        using var stream = SessionFiles.OpenRegular(full, FileAccess.Write) ?? throw NotRegular(path);
        stream.SetLength(0);
        stream.Write(bytes);
    }

    private static ToolException NotRegular(string path) =>
        new($"'{path}' is not a regular file (a pipe, socket or device); use bash to look at it.");

    private static string[] ReadLines(string full, string path) => [.. SplitLines(ReadText(full, path))];

    private static List<string> SplitLines(string text)
    {
        var body = text.EndsWith('\n') ? text[..^1] : text;
        return body.Length == 0 && text.Length == 0 ? [] : [.. body.Split('\n')];
    }

    private static int CountOccurrences(string content, string value)
    {
        var count = 0;
        for (var i = content.IndexOf(value, StringComparison.Ordinal); i >= 0; i = content.IndexOf(value, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static int LineOf(string content, int index) => content.AsSpan(0, index).Count('\n') + 1;
}
