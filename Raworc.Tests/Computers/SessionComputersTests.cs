using System.Security.Cryptography;
using Docker.DotNet.Models;
using Raworc.ApiService.Computers;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Computers;

[ComputerLane]
[Collection(ComputersAppCollection.Name)]
public sealed class SessionComputersTests(ComputersAppFixture fixture) : IAsyncLifetime
{
    /// <summary>On Swarm, deletes the sessions earlier tests left (<see cref="ComputersAppFixture.MakeRoomAsync"/>).</summary>
    public Task InitializeAsync() => fixture.MakeRoomAsync();

    /// <inheritdoc />
    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task CreatedSessionRunsItsComputerWithLimitsLabelsFilesAndEnvironment()
    {
        var (_, client) = await fixture.CreateOperatorAsync("computer");
        using var _ = client;
        var created = await client.CreateSessionAsync(new
        {
            secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey(), DEMO_SECRET = "demo-value-42" },
            instructions = "Be brief.",
            setup = "echo setup-ran > /session/data/setup-ran",
        });
        var session = await client.WaitForStateAsync(created.Id(), "idle");

        var container = await fixture.InspectContainerAsync(created.Id());
        Assert.True(container.State.Running);
        Assert.Equal(container.ID, (string?)session["container_id"]);
        Assert.Equal(DockerComputerProvider.NameOf(created.Id()), (string?)session["persistent_volume_id"]);
        Assert.Equal("true", container.Config.Labels["raworc.managed"]);
        Assert.Equal(created.Id().ToString(), container.Config.Labels["raworc.session-id"]);
        Assert.Equal(500_000_000, container.HostConfig.NanoCPUs);
        Assert.Equal(512L * 1024 * 1024, container.HostConfig.Memory);
        Assert.True(container.HostConfig.Init);
        Assert.Equal(TestRuntime.Name, container.HostConfig.Runtime);
        Assert.Contains("DEMO_SECRET=demo-value-42", container.Config.Env);
        Assert.Contains($"RAWORC_SESSION_ID={created.Id()}", container.Config.Env);
        if (!fixture.OnSwarm)
        {
            // No Host token in the environment nor in a file: a one-time boot ticket, exchanged by the agent for it.
            Assert.DoesNotContain(container.Config.Env, e => e.StartsWith("RAWORC_HOST_TOKEN", StringComparison.Ordinal));
            Assert.Single(container.Config.Env, e => System.Text.RegularExpressions.Regex.IsMatch(e, "^RAWORC_BOOT_TICKET=[A-Za-z0-9_-]{43}$"));
            Assert.Contains("RAWORC_SEED_VOLUME=true", container.Config.Env);
            Assert.Contains("RAWORC_API_URL=http://raworc-api/", container.Config.Env);
            Assert.Contains("RAWORC_API_SOCKET=/run/raworc/api.sock", container.Config.Env);
            var socketFolder = Assert.Single(container.Mounts, m => m.Destination == "/run/raworc");
            Assert.False(socketFolder.RW);
        }
        else
        {
            // The Swarm provider seeds the volume from a helper container on the node (IComputerProvider.BootsWithTicket is
            // false): no Host token in the environment, but in a file of the volume, which the agent read and deleted before
            // it reported ready (below); no boot ticket; the API at its address on the nodes' network, no socket of this machine.
            Assert.DoesNotContain(container.Config.Env, e => e.StartsWith("RAWORC_HOST_TOKEN=", StringComparison.Ordinal));
            Assert.Contains("RAWORC_HOST_TOKEN_FILE=/session/.raworc/host-token", container.Config.Env);
            Assert.DoesNotContain(container.Config.Env, e => e.StartsWith("RAWORC_BOOT_TICKET=", StringComparison.Ordinal)
                || e.StartsWith("RAWORC_SEED_VOLUME=", StringComparison.Ordinal) || e.StartsWith("RAWORC_API_SOCKET=", StringComparison.Ordinal));
            Assert.Contains($"RAWORC_API_URL={fixture.ComputerApiUrl}", container.Config.Env);
            Assert.DoesNotContain(container.Mounts, m => m.Destination == "/run/raworc");
        }
        Assert.DoesNotContain(container.Mounts, m => m.Source.Contains("docker.sock", StringComparison.Ordinal));
        Assert.Equal("raworc", (await fixture.ExecAsync(created.Id(), "whoami")).Trim());

        var files = await fixture.Probe.ReadVolumeAsync(created.Id());
        Assert.True(files["code"].IsDirectory && files["data"].IsDirectory && files["secrets"].IsDirectory && files["logs"].IsDirectory);
        Assert.Equal("Be brief.", files["code/instructions.md"].Text);
        Assert.Equal("echo setup-ran > /session/data/setup-ran", files["code/setup.sh"].Text);
        Assert.Equal("demo-value-42", files["secrets/DEMO_SECRET"].Text);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, files["secrets/DEMO_SECRET"].Mode);
        Assert.Equal("setup-ran\n", files["data/setup-ran"].Text);
        Assert.DoesNotContain(ComputerSpec.HostTokenPath, files.Keys);
    }

    /// <summary>
    /// Creates a session (with <paramref name="setup"/> as its setup.sh, if any) whose stand-in model has the Host run
    /// <paramref name="command"/> with its bash tool on the first message; once the session is idle, runs
    /// <paramref name="beforeMessage"/> (if any), sends the message and returns the session and the tool message's content.
    /// </summary>
    private async Task<(Guid Id, string? ToolRun)> HostRunsFirstCommandAsync(string prefix, string command, string? setup = null,
        Func<Guid, Task>? beforeMessage = null)
    {
        var (_, client) = await fixture.CreateOperatorAsync(prefix);
        using var _ = client;
        var key = ComputersAppFixture.NewModelKey();
        var id = (await client.CreateSessionAsync(setup is null
            ? new { secrets = new { OPENAI_API_KEY = key } }
            : (object)new { secrets = new { OPENAI_API_KEY = key }, setup })).Id();
        fixture.Model.EnqueueFor(key, ScriptStep.CallTool("bash", new System.Text.Json.Nodes.JsonObject { ["command"] = command }),
            ScriptStep.Answer("done"));
        await client.WaitForStateAsync(id, "idle");
        if (beforeMessage is not null)
        {
            await beforeMessage(id);
        }

        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "Run it." });
        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(120));
        return (id, (string?)Assert.Single(messages, m => (string?)m!["metadata"]?["type"] == "tool_execution")!["content"]);
    }

    [Fact]
    public async Task TheHostsBashToolListsTheSessionFolder()
    {
        // Under Debian's runsc of 2022, `ls`, `stat` and every other coreutils program failed with "Invalid argument": they
        // call statx with AT_NO_AUTOMOUNT, a flag that gVisor refused (README, gVisor).
        var (_, run) = await HostRunsFirstCommandAsync("lister", "ls /session");

        Assert.Equal("$ ls /session\nexit_code: 0\n<stdout>\ncode\ndata\nlogs\nsecrets\n\n</stdout>\n<stderr>\n\n</stderr>", run);
    }

    /// <summary>A bash line that opens a UDP socket to a TEST-NET-3 address: exit 0 only when the computer has a route out.</summary>
    private const string RouteOut = "exec 3<>/dev/udp/203.0.113.1/9 && echo routed";

    [Fact]
    public async Task SetupAndTheFirstCommandRunOnceTheComputersNetworkIsAttached()
    {
        // The single engine starts a computer without its network and attaches it right after, while the agent starts and
        // reports ready: setup.sh and the Host's first command run with a route out. (On a quiet machine the attach, ~0.3 s,
        // usually ends before the agent's boot exchange and setup begin; the next test takes the network away to
        // make the wait certain.)
        var (id, run) = await HostRunsFirstCommandAsync("routed", RouteOut, setup: $"{RouteOut} > /session/data/setup-route");

        Assert.Equal($"$ {RouteOut}\nexit_code: 0\n<stdout>\nrouted\n\n</stdout>\n<stderr>\n\n</stderr>", run);
        Assert.Equal("routed\n", (await fixture.Probe.ReadVolumeAsync(id))["data/setup-route"].Text);
    }

    [Fact]
    [OnlyProvider("docker", "only the single engine starts computers before attaching their network; a Swarm task starts on its network")]
    public async Task AComputerFoundWithoutItsNetworkIsAttachedAgainAndTheHostsFirstCommandWaitsForIt()
    {
        // What an API that stopped between a computer's start and its network's attach leaves behind: a running computer
        // without its network. The Host's first command holds until the reconciler (every 2 s) has attached it.
        var cut = "";
        var (id, run) = await HostRunsFirstCommandAsync("detached", RouteOut, beforeMessage: async session =>
        {
            await Waits.UntilAsync(async () => ComputersAppFixture.HasItsNetwork(await fixture.InspectContainerAsync(session)), "the attach after the start");
            var container = (await fixture.InspectContainerAsync(session)).ID;
            await fixture.Docker.Networks.DisconnectNetworkAsync("raworc-computers", new NetworkDisconnectParameters { Container = container, Force = true });
            cut = await fixture.ExecAsync(session, "bash", "-c", $"{RouteOut} || echo unreachable");
        });

        Assert.Equal("unreachable\n", cut);
        Assert.Equal($"$ {RouteOut}\nexit_code: 0\n<stdout>\nrouted\n\n</stdout>\n<stderr>\n\n</stderr>", run);
        Assert.Equal(["raworc-computers"], (await fixture.InspectContainerAsync(id)).NetworkSettings.Networks.Keys);
    }

    [Fact]
    public async Task CloseRemovesTheComputerKeepsTheVolumeAndRestoreKeepsEveryByte()
    {
        var (_, client) = await fixture.CreateOperatorAsync("keeper");
        using var _ = client;
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() } })).Id();
        var first = (string)(await client.WaitForStateAsync(id, "idle"))["container_id"]!;
        var blob = RandomNumberGenerator.GetBytes(64 * 1024);
        await fixture.Probe.PutFileAsync(id, "data/blob.bin", blob);

        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        await Waits.UntilAsync(async () => await fixture.Probe.InspectAsync(id) is null, "the container is removed");
        Assert.True(await fixture.Probe.VolumeExistsAsync(id));

        await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
        var restored = await client.WaitForStateAsync(id, "idle");
        Assert.NotEqual(first, (string)restored["container_id"]!);
        Assert.Equal(blob, (await fixture.Probe.ReadVolumeAsync(id))["data/blob.bin"].Content);
    }

    [Fact]
    public async Task ARestoreAfterTheStateHistoryWasPrunedKeepsTheSessionsOwnEditsOfItsSeedFiles()
    {
        // A start re-seeds a volume only while no agent of the session has ever reported ready (README "Security model",
        // the boot ticket). That fact must outlive the state history, whose rows are pruned after
        // Events:StateChangeRetentionDays: judged by the history, a session restored a week later had its instructions,
        // setup script and secret files written over with the ones it was created with.
        var (_, client) = await fixture.CreateOperatorAsync("pruned");
        using var _ = client;
        var id = (await client.CreateSessionAsync(new
        {
            secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() },
            instructions = "Answer in French.",
        })).Id();
        await client.WaitForStateAsync(id, "idle");
        await fixture.ExecAsync(id, "sh", "-c", "printf 'Answer in Spanish.' > /session/code/instructions.md");
        // What the pruner does once the rows are older than the retention.
        Assert.NotEmpty(await fixture.QueryAsync<int>("DELETE FROM state_changes WHERE session_id = @id RETURNING 1", ("id", id)));

        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        await client.WaitForStateAsync(id, "closed");
        await Waits.UntilAsync(async () => await fixture.Probe.InspectAsync(id) is null, "the container is removed");
        await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
        await client.WaitForStateAsync(id, "idle");

        Assert.Equal("Answer in Spanish.", (await fixture.Probe.ReadVolumeAsync(id))["code/instructions.md"].Text);
    }

    [Fact]
    public async Task RemixWithOnlyDataCopiesOnlyTheDataFolder()
    {
        var (_, client) = await fixture.CreateOperatorAsync("mixer");
        using var _ = client;
        var parent = (await client.CreateSessionAsync(new
        {
            secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey(), PARENT_SECRET = "p" },
            instructions = "parent instructions",
            setup = "echo parent > /session/data/from-setup",
        })).Id();
        await client.WaitForStateAsync(parent, "idle");

        var child = (await client.PostOkAsync($"/api/v0/sessions/{parent}/remix", new { data = true, code = false, secrets = false })).Id();
        await client.WaitForStateAsync(child, "idle");

        var files = await fixture.Probe.ReadVolumeAsync(child);
        Assert.Equal("parent\n", files["data/from-setup"].Text);
        Assert.DoesNotContain(files.Keys, path => path.StartsWith("code/", StringComparison.Ordinal));
        Assert.DoesNotContain(files.Keys, path => path.StartsWith("secrets/", StringComparison.Ordinal));
        Assert.DoesNotContain("logs/setup.log", files.Keys);
        var container = await fixture.InspectContainerAsync(child);
        Assert.DoesNotContain(container.Config.Env, e => e.StartsWith("PARENT_SECRET=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DeleteRemovesTheComputerAndTheVolume()
    {
        var (_, client) = await fixture.CreateOperatorAsync("remover");
        using var _ = client;
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() } })).Id();
        await client.WaitForStateAsync(id, "idle");

        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v0/sessions/{id}")).StatusCode);
        await Waits.UntilAsync(async () => await fixture.Probe.InspectAsync(id) is null && !await fixture.Probe.VolumeExistsAsync(id),
            "the container and the volume are removed");
    }

    [Fact]
    public async Task KilledIdleComputerClosesTheSessionAndALaterMessageRestoresIt()
    {
        var (_, client) = await fixture.CreateOperatorAsync("victim");
        using var _ = client;
        var key = ComputersAppFixture.NewModelKey();
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = key } })).Id();
        await client.WaitForStateAsync(id, "idle");

        var (engine, container) = await fixture.RequireContainerAsync(id);
        await engine.Containers.KillContainerAsync(container.ID, new ContainerKillParameters());
        // The engine's "die" event, then the close: 10 s ran out once at a load average of ~27.
        await client.WaitForStateAsync(id, "closed", TimeSpan.FromSeconds(30));

        fixture.Model.EnqueueFor(key, ScriptStep.Answer("back again"));
        await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "are you there?" });
        // A whole new computer starts first (under gVisor on a loaded machine that alone can take tens of seconds).
        var messages = await client.WaitForMessagesAsync(id, m => m.HasResponse(), TimeSpan.FromSeconds(120));
        Assert.Equal("back again", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);
        await client.WaitForStateAsync(id, "idle");
    }

    [Fact]
    public async Task HangingSetupIsCutOffReportedAndTheSessionStillBecomesIdle()
    {
        var (_, client) = await fixture.CreateOperatorAsync("hang");
        using var _ = client;
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() }, setup = "echo starting; sleep 600" })).Id();
        await client.WaitForStateAsync(id, "idle");

        var messages = await client.WaitForMessagesAsync(id, m => m.Any(x => (string?)x!["role"] == "system"));
        var report = messages.Single(m => (string?)m!["role"] == "system")!;
        Assert.Equal(
            $"The setup script (code/setup.sh) was stopped after its time limit of {ComputersAppFixture.SetupTimeoutSeconds} s; its output is in /session/logs/setup.log.",
            (string?)report["content"]);
        Assert.Equal("timeout", (string?)report["metadata"]!["result"]);
        Assert.Equal("", (await fixture.ExecAsync(id, "pgrep", "-f", "sleep 600")).Trim());
        Assert.Contains("starting", (await fixture.Probe.ReadVolumeAsync(id))["logs/setup.log"].Text);
    }

    [Fact]
    public async Task FailedSetupIsReportedFromTheReadyReportWithoutReadingTheComputer()
    {
        var (_, client) = await fixture.CreateOperatorAsync("setupfail");
        using var _ = client;
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var id = (await client.CreateSessionAsync(new { secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey() }, setup = "echo failing; exit 3" })).Id();
        await client.WaitForStateAsync(id, "idle");

        // Posted while the ready report is answered, so once it is stored the API has done all it does for the report.
        var messages = await client.WaitForMessagesAsync(id, m => m.Any(x => (string?)x!["role"] == "system"));
        var report = messages.Single(m => (string?)m!["role"] == "system")!;
        Assert.Equal("The setup script (code/setup.sh) failed with exit code 3; its output is in /session/logs/setup.log.", (string?)report["content"]);
        Assert.Equal("failed", (string?)report["metadata"]!["result"]);
        // The outcome came with the ready report: the engine archived nothing out of the computer (an archive read costs
        // the engine ~100 ms of CPU per start; it is the only engine call that logs "archive-path").
        Assert.Equal(["create", "start"], await ContainerActionsAsync(id, since));
    }

    [Fact]
    [OnlyProvider("docker", "the boot ticket is the Docker provider's way to give a computer its Host token and seed files; the Swarm provider seeds the volume from a helper container on the node and writes the token there (IComputerProvider.BootsWithTicket is false), and a helper container's write is the design there")]
    public async Task ColdCreateAndRestoreWriteNothingIntoTheComputerThroughTheEngine()
    {
        var (_, client) = await fixture.CreateOperatorAsync("noarchive");
        using var _ = client;
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var id = (await client.CreateSessionAsync(new
        {
            secrets = new { OPENAI_API_KEY = ComputersAppFixture.NewModelKey(), SEEDED = "seeded-value" },
            instructions = "Seeded.",
            setup = "echo ran >> /session/data/setup-runs",
        })).Id();
        await client.WaitForStateAsync(id, "idle");
        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
        await client.WaitForStateAsync(id, "closed");
        await client.PostOkAsync($"/api/v0/sessions/{id}/restore");
        await client.WaitForStateAsync(id, "idle");

        // No "extract-to-dir": the engine wrote no archive into either computer (it costs the engine ~100 ms of CPU on the
        // start's path); the agent got its Host token and the seed files by exchanging its boot ticket.
        Assert.Equal(["create", "start", "kill", "die", "stop", "destroy", "create", "start"], await ContainerActionsAsync(id, since));
        var files = await fixture.Probe.ReadVolumeAsync(id);
        Assert.Equal("Seeded.", files["code/instructions.md"].Text);
        Assert.Equal("seeded-value", files["secrets/SEEDED"].Text);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, files["secrets/SEEDED"].Mode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, files["secrets"].Mode);
        Assert.Equal("ran\nran\n", files["data/setup-runs"].Text);
    }

    /// <summary>
    /// The engines' events of the session's containers from <paramref name="since"/> until now, in order: on Docker the
    /// container named after the session; on Swarm every container of the session's service, on each node (a session's
    /// computers stay on its volume's node, so the order is one engine's).
    /// </summary>
    private async Task<string[]> ContainerActionsAsync(Guid id, DateTimeOffset since)
    {
        var actions = new List<string>();
        var (key, value) = fixture.OnSwarm
            ? ("label", $"com.docker.swarm.service.name={DockerComputerProvider.NameOf(id)}")
            : ("container", DockerComputerProvider.NameOf(id));
        foreach (var engine in await fixture.EnginesAsync())
        {
            await engine.System.MonitorEventsAsync(new ContainerEventsParameters
            {
                Since = since.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                Until = DateTimeOffset.UtcNow.AddSeconds(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                Filters = new Dictionary<string, IDictionary<string, bool>>
                {
                    ["type"] = new Dictionary<string, bool> { ["container"] = true },
                    [key] = new Dictionary<string, bool> { [value] = true },
                },
            }, new Collector(actions), CancellationToken.None);
        }
        return [.. actions.Where(action => !action.StartsWith("exec_", StringComparison.Ordinal))];
    }

    /// <summary>Keeps each event as it is read (<see cref="Progress{T}"/> would report on the thread pool, after the call returned).</summary>
    private sealed class Collector(List<string> actions) : IProgress<Message>
    {
        public void Report(Message value) => actions.Add(value.Action);
    }

    [Fact]
    public async Task MissingImageMakesTheSessionErroredWithAClearReason()
    {
        var (_, client) = await fixture.CreateOperatorAsync("noimage");
        using var _ = client;
        await fixture.UntagImageAsync();
        try
        {
            var id = (await client.CreateSessionAsync()).Id();
            var errored = await client.WaitForStateAsync(id, "errored");
            Assert.Equal(
                $"The computer image '{ComputersAppFixture.Image}' does not exist on the Docker engine; build it with eng/host-agent-image.sh or set Computers:Image.",
                (string?)errored["error"]);
            Assert.Null(await fixture.Probe.InspectAsync(id));
        }
        finally
        {
            await fixture.TagImageAsync();
        }
    }
}
