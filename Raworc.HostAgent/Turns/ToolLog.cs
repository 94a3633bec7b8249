using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Raworc.HostAgent.Turns;

/// <summary>
/// Appends one JSON line per tool call to <c>tools.log</c> in the logs folder:
/// <c>{"time","tool","arguments","duration_ms","exit_code","output"}</c>, secrets already redacted by the caller.
/// </summary>
/// <param name="directory">The logs folder, e.g. <c>/session/logs</c>; created on first write.</param>
public sealed class ToolLog(string directory)
{
    /// <summary>The log file's name inside the folder.</summary>
    public const string FileName = "tools.log";

    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>The full path of the log file.</summary>
    public string FilePath { get; } = Path.Combine(directory, FileName);

    /// <summary>Appends one entry. I/O failures are swallowed: a full disk must not end the turn.</summary>
    public async Task AppendAsync(string tool, JsonNode? arguments, long durationMs, int exitCode, string output, CancellationToken cancellationToken)
    {
        var entry = new JsonObject
        {
            ["time"] = DateTimeOffset.UtcNow.ToString("O"),
            ["tool"] = tool,
            ["arguments"] = arguments?.DeepClone(),
            ["duration_ms"] = durationMs,
            ["exit_code"] = exitCode,
            ["output"] = output,
        };
        await _gate.WaitAsync(cancellationToken);
        try
        {
            Directory.CreateDirectory(directory);
            var line = Encoding.UTF8.GetBytes(entry.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) + "\n");
            // The session's code can put a FIFO at the log's path, which a plain open would wait on for ever (and every later
            // tool call behind this gate). Removing it first was not enough: a process that keeps renaming a fresh FIFO
            // onto the path won the gap between the removal and the open (found by a break-out attempt). So the log is
            // opened without waiting and checked on the open descriptor; what is not a regular file is removed and the
            // open tried once more, then the line is left out (the log is the computer's own record, best effort).
            for (var attempt = 0; attempt < 2; attempt++)
            {
                using var file = SessionFiles.OpenRegular(FilePath, FileAccess.Write);
                if (file is null)
                {
                    File.Delete(FilePath);
                    continue;
                }
                file.Seek(0, SeekOrigin.End);
                await file.WriteAsync(line, cancellationToken);
                break;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        finally
        {
            _gate.Release();
        }
    }
}
