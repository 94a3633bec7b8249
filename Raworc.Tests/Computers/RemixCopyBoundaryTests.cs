using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Computers;

/// <summary>
/// A remix copies the parent's folders while the parent's computer may still be running: a real attempt, from inside the
/// parent's computer, to make the copy helper take something that is not a file of the parent's volume.
/// </summary>
[ComputerLane]
[Collection(ComputersAppCollection.Name)]
public sealed class RemixCopyBoundaryTests(ComputersAppFixture fixture) : IAsyncLifetime
{
    /// <summary>On Swarm, deletes the sessions earlier tests left (<see cref="ComputersAppFixture.MakeRoomAsync"/>).</summary>
    public Task InitializeAsync() => fixture.MakeRoomAsync();

    /// <inheritdoc />
    public Task DisposeAsync() => Task.CompletedTask;

    private const int Remixes = 4;
    private const string LinkToEtc = "link to /etc";
    private static readonly string[] Folders = ["1", "2", "3"];

    // As the session's user: stable files, and three folders holding a file (64 KiB, its own text) for each name of a
    // file in /etc (the computers' image is the copy helper's too; not the three the engine writes for each container),
    // each with a link to /etc made beside it in code/.
    private const string Setup = """
        set -e
        cd /session/data
        mkdir stable race /session/code/swap
        head -c 65536 /dev/urandom > stable/blob
        printf 'kept as it is\n' > stable/note && chmod 0600 stable/note
        printf '#!/bin/sh\necho run\n' > stable/run.sh && chmod 0755 stable/run.sh
        for folder in 1 2 3; do
          mkdir race/$folder
          ln -s /etc /session/code/swap/$folder
          for name in $(find /etc -maxdepth 1 -type f ! -name hostname ! -name hosts ! -name resolv.conf -printf '%f\n'); do
            yes "race/$folder/$name of the parent" | head -c 65536 > race/$folder/$name
          done
        done
        echo made
        """;

    // The moment a folder of race/ is opened (inotify: under runc the copy helper's opens reach the parent's watch, as both
    // run on the host's kernel; under runsc the sandbox sees only its own), it is swapped atomically (renameat2
    // RENAME_EXCHANGE) with its link to /etc for 0.3 s. A copy that goes on by path, as cp -a does (its lstat and open of
    // race/1/passwd), then reads the helper's /etc/passwd.
    private const string StartSwapper = """
        cat > /tmp/swap.py <<'EOF'
        import ctypes, os, select, struct, time
        libc = ctypes.CDLL(None, use_errno=True)
        AT_FDCWD, RENAME_EXCHANGE, IN_OPEN, IN_NONBLOCK, HOLD = -100, 2, 0x20, 0o4000, 0.3
        inotify = libc.inotify_init1(IN_NONBLOCK)
        folders = {libc.inotify_add_watch(inotify, f"/session/data/race/{f}".encode(), IN_OPEN): f for f in ("1", "2", "3")}

        def exchange(folder):
            if libc.renameat2(AT_FDCWD, f"/session/data/race/{folder}".encode(), AT_FDCWD, f"/session/code/swap/{folder}".encode(), RENAME_EXCHANGE):
                raise OSError(ctypes.get_errno(), "renameat2")

        def opened():
            found = set()
            while True:
                try:
                    events = os.read(inotify, 65536)
                except BlockingIOError:
                    return found
                at = 0
                while at < len(events):
                    wd, _, _, length = struct.unpack_from("iIII", events, at)
                    found.add(folders.get(wd))
                    at += 16 + length

        swapped, swaps = {}, 0
        open("/tmp/armed", "w").close()
        while True:
            select.select([inotify], [], [], max(0, min(swapped.values()) - time.monotonic()) if swapped else None)
            for folder in opened() - swapped.keys() - {None}:
                exchange(folder)
                swapped[folder] = time.monotonic() + HOLD
                swaps += 1
                with open("/tmp/swaps", "w") as count:
                    count.write(str(swaps))
            for folder, until in list(swapped.items()):
                if time.monotonic() >= until:
                    exchange(folder)
                    del swapped[folder]
        EOF
        (setsid python3 /tmp/swap.py </dev/null >/tmp/swap.log 2>&1 &)
        for i in $(seq 100); do [ -e /tmp/armed ] && break; sleep 0.1; done
        [ -e /tmp/armed ] && echo armed
        """;

    [Fact]
    public async Task ARemixCopyFollowsNoLinkTheParentsCodeSwapsInForAFolderWhileItCopies()
    {
        // A break-out attempt swapped /session/data for a link to /etc in a loop during six remixes: the check the copy made
        // of the folder and cp's use of it were two steps, and cp -a opens every folder below, and every file, by its path.
        var (_, client) = await fixture.CreateOperatorAsync("swapper");
        using var _ = client;
        var parent = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() } })).Id();
        await client.WaitForStateAsync(parent, "idle");
        var made = await fixture.RunInsideAsync(parent, Setup);
        Assert.True(made.Stdout == "made\n", made.Stderr);
        var files = Data(await fixture.Probe.ReadVolumeAsync(parent));
        var started = await fixture.RunInsideAsync(parent, StartSwapper);
        Assert.True(started.Stdout == "armed\n", started.Stderr);

        var problems = new List<string>();
        for (var remix = 1; remix <= Remixes; remix++)
        {
            var child = (await client.PostOkAsync($"/api/v0/sessions/{parent}/remix", new { data = true, code = false, secrets = false })).Id();
            var settled = await SettledAsync(client, child);
            if ((string?)settled["state"] == "idle")
            {
                problems.AddRange(Differences(files, Data(await fixture.Probe.ReadVolumeAsync(child))).Select(difference => $"remix {remix}: {difference}"));
            }
            else
            {
                problems.Add($"remix {remix}: {settled["state"]}: {settled["error"]}");
            }
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v0/sessions/{child}")).StatusCode);
        }
        // "<swappers running> <swaps made>", then what the swapper printed (nothing, unless it failed).
        var swapper = await fixture.RunInsideAsync(parent, "echo \"$(pgrep -cf '^python3 /tmp/swap.py$') $(cat /tmp/swaps 2>/dev/null || echo 0)\"; cat /tmp/swap.log");

        // Every child holds the parent's files exactly (a folder the copy met as the link may be that link); nothing else.
        Assert.True(problems.Count == 0, $"swapper: {swapper.Stdout}\n{string.Join('\n', problems)}");
        var counts = swapper.Stdout.Split('\n')[0].Split(' ');
        Assert.True(counts[0] == "1", swapper.Stdout);
        if (TestRuntime.Name == "runc")
        {
            // The swapper saw the copies' opens and swapped (under runsc it cannot: the sandbox's inotify sees its own opens only).
            Assert.True(int.Parse(counts[1], System.Globalization.CultureInfo.InvariantCulture) > 0, swapper.Stdout);
        }
    }

    private static async Task<JsonObject> SettledAsync(HttpClient client, Guid id)
    {
        var session = new JsonObject();
        await Waits.UntilAsync(async () => (string?)(session = await client.GetSessionAsync(id.ToString()))["state"] is "idle" or "errored",
            $"remix {id} idle or errored", TimeSpan.FromSeconds(120));
        return session;
    }

    /// <summary>The data folder's entries, each described by its kind, mode, owner and content.</summary>
    private static Dictionary<string, string> Data(Dictionary<string, VolumeEntry> volume) =>
        volume.Where(entry => entry.Key == "data" || entry.Key.StartsWith("data/", StringComparison.Ordinal))
            .ToDictionary(entry => entry.Key, entry => Describe(entry.Value));

    private static string Describe(VolumeEntry entry) => entry switch
    {
        { LinkTarget: { } target } => $"link to {target}",
        { IsDirectory: true } => $"folder {Convert.ToString((int)entry.Mode, 8)} of uid {entry.Uid}",
        _ => $"file {Convert.ToString((int)entry.Mode, 8)} of uid {entry.Uid}, {entry.Content.Length} bytes starting "
            + $"\"{string.Concat(Encoding.UTF8.GetString(entry.Content[..Math.Min(32, entry.Content.Length)]).Select(c => char.IsControl(c) ? '.' : c))}\" "
            + $"(SHA-256 {Convert.ToHexString(SHA256.HashData(entry.Content))[..16]})",
    };

    private static IEnumerable<string> Differences(Dictionary<string, string> parent, Dictionary<string, string> child)
    {
        var expected = new Dictionary<string, string>(parent);
        foreach (var folder in Folders.Select(folder => $"data/race/{folder}"))
        {
            // A folder the copy found swapped for its link is copied as that link, with nothing under it.
            if (child.GetValueOrDefault(folder) == LinkToEtc)
            {
                foreach (var below in expected.Keys.Where(path => path.StartsWith(folder + "/", StringComparison.Ordinal)).ToList())
                {
                    expected.Remove(below);
                }
                expected[folder] = LinkToEtc;
            }
        }
        foreach (var (path, description) in child.OrderBy(entry => entry.Key, StringComparer.Ordinal))
        {
            if (!expected.TryGetValue(path, out var wanted))
            {
                yield return $"{path}: {description}, which the parent does not have";
            }
            else if (wanted != description)
            {
                yield return $"{path}: {description}, not {wanted}";
            }
        }
        foreach (var path in expected.Keys.Except(child.Keys).Order(StringComparer.Ordinal))
        {
            yield return $"{path} is missing";
        }
    }
}
