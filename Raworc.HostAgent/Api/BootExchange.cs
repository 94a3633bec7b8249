using System.Net;
using System.Net.Http.Json;

namespace Raworc.HostAgent.Api;

/// <summary>
/// How the agent of a computer started for its session gets its Host token (README, "How a computer gets its Host
/// token"). With <c>RAWORC_BOOT_TICKET</c> set it takes the ticket out of its own environment (no process it starts inherits
/// it), builds the session-independent part of the agent, exchanges the ticket once (<c>POST /api/v0/boot</c>) and writes
/// what the answer carries: on a new volume (<c>RAWORC_SEED_VOLUME=true</c>) the seed files, and on every start the
/// session folders that are missing. The Host token stays in memory only. All of it before any of the session's code runs.
/// </summary>
public static class BootExchange
{
    /// <summary>How long the agent keeps trying to reach the API (its socket missing, the API restarting) before it gives up.</summary>
    public static readonly TimeSpan ReachTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    /// <summary>The session folders every start ensures, with the modes a new volume has them in (secrets: owner only).</summary>
    internal static readonly IReadOnlyList<(string Name, UnixFileMode Mode)> Folders =
    [
        ("code", Directory),
        ("data", Directory),
        ("secrets", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute),
        ("logs", Directory),
    ];

    private const UnixFileMode Directory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>Whether this computer boots with a ticket (<c>RAWORC_BOOT_TICKET</c> set).</summary>
    internal static bool HasTicket => Environment.GetEnvironmentVariable(HostAgentVariables.BootTicket) is { Length: > 0 };

    /// <summary>Takes the ticket: reads <c>RAWORC_BOOT_TICKET</c> and removes it from this process's environment.</summary>
    internal static string TakeTicket()
    {
        var ticket = Environment.GetEnvironmentVariable(HostAgentVariables.BootTicket) ?? "";
        Environment.SetEnvironmentVariable(HostAgentVariables.BootTicket, null);
        return ticket;
    }

    /// <summary>
    /// Exchanges <paramref name="ticket"/> through <paramref name="agent"/>'s transport and applies the answer under the
    /// session folder. A failure to reach the API is retried (0.2 s doubling to 2 s) for up to <see cref="ReachTimeout"/>;
    /// any answer other than 200 is final, since a ticket is good for one exchange.
    /// </summary>
    /// <param name="agent">The agent built without its session.</param>
    /// <param name="ticket">The ticket (<see cref="TakeTicket"/>).</param>
    /// <param name="cancellationToken">Stops trying.</param>
    /// <returns>The handover: the session id and the Host token.</returns>
    /// <exception cref="InvalidOperationException">The API refused the ticket, or could not be reached in time.</exception>
    internal static async Task<PoolHandover> ExchangeAsync(PreparedAgent agent, string ticket, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("A computer runs on Linux.");
        }
        var sessionId = Environment.GetEnvironmentVariable(HostAgentVariables.SessionId)
            ?? throw new InvalidOperationException($"The environment variable {HostAgentVariables.SessionId} is required.");
        var seed = Environment.GetEnvironmentVariable(HostAgentVariables.SeedVolume) == "true";
        using var http = new HttpClient(agent.Transport, disposeHandler: false) { BaseAddress = agent.ApiUrl, Timeout = ReachTimeout };
        var giveUp = DateTimeOffset.UtcNow + ReachTimeout;
        var backoff = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                using var response = await http.PostAsJsonAsync("api/v0/boot", new BootRequest(sessionId, ticket, seed), ApiJson.Default.BootRequest, cancellationToken);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"The API refused this computer's boot ticket ({(int)response.StatusCode}).");
                }
                var handover = await response.Content.ReadFromJsonAsync(ApiJson.Default.PoolHandover, cancellationToken)
                    ?? throw new InvalidOperationException("The boot exchange answered no session.");
                var root = Environment.GetEnvironmentVariable(HostAgentVariables.SessionDirectory) is { Length: > 0 } dir ? dir : "/session";
                EnsureFolders(root);
                PoolClaim.Apply(handover, root);
                return handover;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Mostly the request never reached the API (its socket missing while it restarts): the ticket is unspent and a
                // retry succeeds. Had it been spent and only the answer lost, the retry is refused and the start deadline
                // errors the session, as for any computer that never reports ready.
                if (DateTimeOffset.UtcNow >= giveUp)
                {
                    throw new InvalidOperationException($"The API could not be reached for the boot exchange ({FailureText.Describe(ex)}).");
                }
                Console.WriteLine($"Boot: the API could not be reached ({FailureText.DescribeForLog(ex)}); retrying in {backoff.TotalSeconds:0.#} s");
            }
            await Task.Delay(backoff, cancellationToken);
            backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
        }
    }

    /// <summary>
    /// Creates the session folders missing under <paramref name="root"/> (a new volume has them from the image), and mends
    /// what the session's own code may have done to them since the last start: the root and each folder get their owner's
    /// read, write and search back, and a file, link or FIFO where a folder belongs is moved aside to
    /// <c>&lt;name&gt;.moved-&lt;yyyyMMddHHmmss&gt;</c> (kept, never deleted). Before, either made every later start fail.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal static void EnsureFolders(string root)
    {
        const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        File.SetUnixFileMode(root, File.GetUnixFileMode(root) | Owner);
        foreach (var (name, mode) in Folders)
        {
            var path = Path.Combine(root, name);
            // File.Exists is true for anything but a folder (a FIFO too); LinkTarget for a link, even to a folder.
            if (new FileInfo(path).LinkTarget is not null || File.Exists(path))
            {
                var aside = $"{path}.moved-{DateTime.UtcNow:yyyyMMddHHmmss}";
                // A link to a folder is moved as a folder would be (File.Move refuses it); either renames the link itself.
                if (System.IO.Directory.Exists(path))
                {
                    System.IO.Directory.Move(path, aside);
                }
                else
                {
                    File.Move(path, aside);
                }
            }
            if (!System.IO.Directory.Exists(path))
            {
                System.IO.Directory.CreateDirectory(path, mode);
            }
            else
            {
                File.SetUnixFileMode(path, File.GetUnixFileMode(path) | Owner);
            }
        }
    }
}
