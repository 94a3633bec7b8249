using System.Text.Json;
using System.Text.Json.Serialization;

namespace Raworc.Cli;

/// <summary>What <c>raworc login</c> stores: the server, the operator and its token (a secret: the file is 0600).</summary>
/// <param name="Url">The server, e.g. <c>http://localhost:9000</c>.</param>
/// <param name="User">The operator that logged in.</param>
/// <param name="Token">Its bearer token.</param>
/// <param name="ExpiresAt">When the token stops working (UTC).</param>
public sealed record CliConfig(string Url, string User, string Token, DateTimeOffset ExpiresAt)
{
    /// <summary>
    /// The config file: <c>--config</c>, else <c>RAWORC_CONFIG</c>, else <c>raworc/config.json</c> in the user's config
    /// folder (<c>$XDG_CONFIG_HOME</c> or <c>~/.config</c> on Linux and macOS, <c>%APPDATA%</c> on Windows).
    /// </summary>
    /// <param name="option">The <c>--config</c> value, or null.</param>
    /// <param name="environment">Reads an environment variable.</param>
    public static string PathFor(string? option, Func<string, string?> environment) =>
        option is { Length: > 0 } ? option
        : environment("RAWORC_CONFIG") is { Length: > 0 } fromEnvironment ? fromEnvironment
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.DoNotVerify), "raworc", "config.json");

    /// <summary>The stored config, or null when there is none (never logged in).</summary>
    /// <param name="path">The config file.</param>
    /// <exception cref="CliException">The file is not a config this CLI wrote.</exception>
    public static CliConfig? Load(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), CliJson.Default.CliConfig);
        }
        catch (JsonException)
        {
            throw new CliException($"{path} is not a raworc config; run 'raworc login' again.");
        }
    }

    /// <summary>
    /// Writes the config so that only the user can read it: the folder is made 0700, the file is written beside the old
    /// one with mode 0600 from its creation (never readable by others, not even for a moment) and then moved over it.
    /// </summary>
    /// <param name="path">The config file.</param>
    public void Save(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, owner | UnixFileMode.UserExecute);
        }

        var temporary = path + ".tmp";
        File.Delete(temporary);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = owner;
        }
        using (var stream = new FileStream(temporary, options))
        {
            JsonSerializer.Serialize(stream, this, CliJson.Default.CliConfig);
        }
        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>The config file's JSON (snake_case, indented).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(CliConfig))]
internal sealed partial class CliJson : JsonSerializerContext;

/// <summary>A mistake the user can fix (not logged in, a bad option value): printed as one line, exit code 1.</summary>
/// <param name="message">What to tell the user.</param>
public sealed class CliException(string message) : Exception(message);
