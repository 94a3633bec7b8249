using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace Raworc.HostAgent.Api;

/// <summary>
/// How the agent of a warm-pool computer gets its session. With <c>RAWORC_POOL_TOKEN_FILE</c> set it takes the pool
/// token (read once, then deleted), builds everything of the agent that needs no session (<see cref="HostAgentSetup.Prepare"/>),
/// long-polls <c>GET /api/v0/pool/claim</c> until a session claims the computer, then adds the session's variables to
/// its own environment and writes the session's files: from there on it runs exactly as in a computer started for the
/// session, with nothing left to build but the session's own part. The Host token stays in memory only.
/// </summary>
public static class PoolClaim
{
    /// <summary>Seconds of each long-poll of the claim route (the API's maximum).</summary>
    public const int WaitSeconds = 30;

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>Whether this computer is a warm-pool one (<c>RAWORC_POOL_TOKEN_FILE</c> set).</summary>
    internal static bool IsPooled => Environment.GetEnvironmentVariable(HostAgentVariables.PoolTokenFile) is { Length: > 0 };

    /// <summary>Takes the pool token from <c>RAWORC_POOL_TOKEN_FILE</c> (read, then deleted), before anything else reads files.</summary>
    /// <exception cref="InvalidOperationException">The token file cannot be read or is empty.</exception>
    internal static string TakeToken() =>
        AgentOptions.TakeTokenFile(Environment.GetEnvironmentVariable(HostAgentVariables.PoolTokenFile) ?? "", HostAgentVariables.PoolTokenFile, "pool token");

    /// <summary>
    /// Waits for the claim, for as long as it takes (API restarts included: failures are retried with backoff from 0.2 s
    /// to 5 s), applies it and returns it. The long-poll goes through <paramref name="agent"/>'s transport, so the
    /// agent's first calls after the claim find the connection open.
    /// </summary>
    /// <param name="agent">The agent built without its session.</param>
    /// <param name="token">The pool token (<see cref="TakeToken"/>).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="InvalidOperationException">The API says this computer is not pooled any more (401, 404): the agent
    /// then exits and the pool removes the computer.</exception>
    internal static async Task<PoolHandover> WaitAsync(PreparedAgent agent, string token, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(agent.Transport, disposeHandler: false)
        {
            BaseAddress = agent.ApiUrl,
            Timeout = TimeSpan.FromSeconds(WaitSeconds + 30),
        };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        Console.WriteLine("Warm computer: waiting for a session");
        var backoff = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync($"api/v0/pool/claim?wait={WaitSeconds}", cancellationToken);
                if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized)
                {
                    throw new InvalidOperationException($"This computer left the warm pool unclaimed (claim answered {(int)response.StatusCode}).");
                }
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var handover = await response.Content.ReadFromJsonAsync(ApiJson.Default.PoolHandover, cancellationToken)
                        ?? throw new InvalidOperationException("The claim answered no session.");
                    if (OperatingSystem.IsWindows())
                    {
                        throw new PlatformNotSupportedException("A warm-pool computer runs on Linux.");
                    }
                    Apply(handover, Environment.GetEnvironmentVariable(HostAgentVariables.SessionDirectory) is { Length: > 0 } dir ? dir : "/session");
                    Console.WriteLine($"Warm computer: claimed by session {handover.SessionId}");
                    return handover;
                }
                // 204: nobody claimed it within the wait; anything else (the API restarting): poll again after a pause.
                if (response.StatusCode == HttpStatusCode.NoContent)
                {
                    backoff = TimeSpan.FromMilliseconds(200);
                    continue;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !cancellationToken.IsCancellationRequested)
            {
                Console.WriteLine($"Warm computer: the claim failed ({FailureText.DescribeForLog(ex)}); retrying in {backoff.TotalSeconds:0.#} s");
            }
            await Task.Delay(backoff, cancellationToken);
            backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
        }
    }

    /// <summary>
    /// Puts the session's variables into this process's environment (so the configuration, the tools and <c>setup.sh</c>
    /// see them) and writes its files under <paramref name="sessionDirectory"/> with their modes; paths that would leave
    /// the folder are refused.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal static void Apply(PoolHandover handover, string sessionDirectory)
    {
        foreach (var (name, value) in handover.Environment)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
        var root = Path.GetFullPath(sessionDirectory);
        foreach (var file in handover.Files)
        {
            var full = Path.GetFullPath(Path.Combine(root, file.Path));
            if (Path.IsPathRooted(file.Path) || !full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new InvalidOperationException("The claim named a file outside the session folder.");
            }
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            var mode = (UnixFileMode)file.Mode;
            // Created with its final mode (a secret is never readable by others, not even for a moment), then set exactly (umask).
            using (var stream = new FileStream(full, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = mode }))
            {
                stream.Write(new UTF8Encoding(false).GetBytes(file.Content));
            }
            File.SetUnixFileMode(full, mode);
        }
    }
}
