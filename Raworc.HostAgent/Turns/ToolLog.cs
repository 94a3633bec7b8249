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
            // The session's code can replace the log by a FIFO, which an append would wait on for ever (and every later
            // tool call behind this gate): anything but a regular file there is removed first.
            if (SessionFiles.IsSpecial(FilePath))
            {
                File.Delete(FilePath);
            }
            await File.AppendAllTextAsync(FilePath, entry.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) + "\n", cancellationToken);
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
