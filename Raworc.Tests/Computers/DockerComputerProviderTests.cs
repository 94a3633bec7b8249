using System.Text;
using Docker.DotNet;
using Raworc.ApiService.Computers;
using Raworc.ApiService.Work;
using Raworc.Tests.Infrastructure;

namespace Raworc.Tests.Computers;

/// <summary>The Docker computer provider against the real engine, with the real image files.</summary>
[ComputerLane]
[OnlyProvider("docker", "these test the Docker provider's class itself on the main engine (no API, no provider setting); the Swarm provider's are SwarmComputersTests")]
public sealed class DockerComputerProviderTests(ComputerFixture fixture) : IClassFixture<ComputerFixture>, IAsyncLifetime
{
    private static readonly TimeSpan SetupWait = TimeSpan.FromSeconds(90);
    private readonly DockerProbe _probe = new(fixture.Docker);
    private readonly DockerComputerProvider _provider = fixture.Provider();

    // Non-ASCII text, CRLF and a trailing space: the files must come back byte for byte.
    private const string Instructions = "# Task\r\nRéponds en français, s'il te plaît. \n";
    private const string Setup = "id -u\necho setup done\n";
    private const string SecretValue = "s3cret value with spaces = and é";

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _probe.CleanUpAsync();

    private ComputerSpec Spec(Guid sessionId, string? setup = Setup) => new(
        sessionId,
        new Dictionary<string, string> { ["API_KEY"] = SecretValue },
        Instructions,
        setup,
        new Dictionary<string, string> { ["RAWORC_API_URL"] = "http://127.0.0.1:9000" },
        HostToken: "token-1");

    [Fact]
    public async Task CreatedComputerRunsWithLimitsLabelsLayoutFilesAndEnvironment()
    {
        var id = _probe.NewSession();

        var handle = await _provider.CreateAsync(Spec(id), CancellationToken.None);

        var name = $"raworc-session-{id:D}";
        Assert.Equal(name, handle.VolumeName);
        var container = await _probe.InspectAsync(id);
        Assert.NotNull(container);
        Assert.Equal(handle.ContainerId, container.ID);
        Assert.True(container.State.Running);
        Assert.Equal(500_000_000, container.HostConfig.NanoCPUs);
        Assert.Equal(512L * 1024 * 1024, container.HostConfig.Memory);
        Assert.Equal("raworc-computers", container.HostConfig.NetworkMode);
        Assert.Equal(TestRuntime.Name, container.HostConfig.Runtime);
        Assert.True(container.HostConfig.Init);
        Assert.Equal("1000:1000", container.Config.User);
        Assert.Equal(["ALL"], container.HostConfig.CapDrop);
        Assert.Null(container.HostConfig.CapAdd);
        Assert.Equal(["no-new-privileges"], container.HostConfig.SecurityOpt);
        // Under gVisor the nproc rlimit holds the limit and the cgroup caps the sandbox's own threads (16 per task).
        var gvisor = TestRuntime.Name == "runsc";
        Assert.Equal(gvisor ? 8192 : 512, container.HostConfig.PidsLimit);
        Assert.True(container.HostConfig.ReadonlyRootfs);
        Assert.Equal(new Dictionary<string, string>
        {
            ["/tmp"] = "rw,nosuid,nodev,size=256m,mode=1777",
            ["/home/raworc"] = "rw,nosuid,nodev,size=256m,mode=0700,uid=1000,gid=1000",
        }, container.HostConfig.Tmpfs);
        Assert.Equal(gvisor ? [("nofile", 4096L, 4096L), ("core", 0L, 0L), ("nproc", 512L, 512L)] : [("nofile", 4096L, 4096L), ("core", 0L, 0L)],
            container.HostConfig.Ulimits.Select(limit => (limit.Name, limit.Soft, limit.Hard)));
        Assert.Equal("json-file", container.HostConfig.LogConfig.Type);
        Assert.Equal(new Dictionary<string, string> { ["max-size"] = "10m", ["max-file"] = "3" }, container.HostConfig.LogConfig.Config);
        Assert.Equal("true", container.Config.Labels["raworc.managed"]);
        Assert.Equal(id.ToString("D"), container.Config.Labels["raworc.session-id"]);
        var mount = Assert.Single(container.Mounts);
        Assert.Equal(name, mount.Name);
        Assert.Equal("/session", mount.Destination);
        Assert.Contains($"API_KEY={SecretValue}", container.Config.Env);
        Assert.Contains("RAWORC_API_URL=http://127.0.0.1:9000", container.Config.Env);
        // The token travels in a file the agent deletes, never in the environment every process can read.
        Assert.DoesNotContain(container.Config.Env, variable => variable.Contains("token-1", StringComparison.Ordinal));
        Assert.Contains("RAWORC_HOST_TOKEN_FILE=/session/.raworc/host-token", container.Config.Env);
        Assert.Contains($"RAWORC_SESSION_ID={id:D}", container.Config.Env);
        Assert.Contains("RAWORC_SETUP_TIMEOUT=300", container.Config.Env);

        var status = await _probe.WaitForSetupStatusAsync(id, SetupWait);
        Assert.Equal("ok", status["result"]);
        Assert.Equal("0", status["exit_code"]);
        var files = await _probe.ReadVolumeAsync(id);
        foreach (var folder in new[] { "code", "data", "secrets", "logs" })
        {
            Assert.True(files[folder].IsDirectory);
            Assert.Equal(1000, files[folder].Uid);
        }
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, files["secrets"].Mode);
        Assert.Equal(Encoding.UTF8.GetBytes(Instructions), files["code/instructions.md"].Content);
        Assert.Equal(Encoding.UTF8.GetBytes(Setup), files["code/setup.sh"].Content);
        Assert.Equal(Encoding.UTF8.GetBytes(SecretValue), files["secrets/API_KEY"].Content);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, files["secrets/API_KEY"].Mode);
        Assert.Equal(1000, files["secrets/API_KEY"].Uid);
        // The setup ran as the non-root user, and its output went to the log.
        Assert.EndsWith("1000\nsetup done\n", files["logs/setup.log"].Text);
        Assert.Equal("token-1", files[".raworc/host-token"].Text);
        Assert.Equal(UnixFileMode.UserRead, files[".raworc/host-token"].Mode);
    }

    [Fact]
    public async Task StoppedComputerKeepsItsVolumeAndARestoredOneFindsItsFilesByteForByte()
    {
        var id = _probe.NewSession();
        var first = await _provider.CreateAsync(Spec(id), CancellationToken.None);
        await _probe.PutFileAsync(first.ContainerId, "data/result.bin", [0, 1, 2, 255, 13, 10]);
        await _probe.WaitForSetupStatusAsync(id, SetupWait);
        var before = await _probe.ReadVolumeAsync(id);

        await _provider.StopAsync(id, CancellationToken.None);

        Assert.Null(await _probe.InspectAsync(id));
        Assert.True(await _probe.VolumeExistsAsync(id));
        await _provider.StopAsync(id, CancellationToken.None);

        var second = await _provider.CreateAsync(Spec(id) with { Instructions = "other", Secrets = new Dictionary<string, string>() }, CancellationToken.None);

        Assert.NotEqual(first.ContainerId, second.ContainerId);
        Assert.True((await _probe.InspectAsync(id))!.State.Running);
        var after = await _probe.ReadVolumeAsync(id);
        foreach (var path in new[] { "code/instructions.md", "code/setup.sh", "secrets/API_KEY", "data/result.bin" })
        {
            Assert.Equal(before[path].Content, after[path].Content);
            Assert.Equal(before[path].Mode, after[path].Mode);
        }
    }

    [Fact]
    public async Task DeleteCancelsARemixCopyingFromTheSessionAndRemovesItsVolume()
    {
        var parent = _probe.NewSession();
        var child = _probe.NewSession();
        await _provider.CreateAsync(Spec(parent, setup: null), CancellationToken.None);
        // A remix's copy helper in the middle of its work, as CopyVolumeAsync makes it: labelled with the child, the
        // parent's volume mounted read-only. Before, the delete left it running and failed on the volume "in use" (409).
        var helper = await fixture.Docker.Containers.CreateContainerAsync(new Docker.DotNet.Models.CreateContainerParameters
        {
            Name = $"raworc-copy-{child:D}",
            Image = ComputerFixture.TestImage,
            Entrypoint = ["sleep", "600"],
            Labels = new Dictionary<string, string>
            {
                [DockerComputerProvider.ManagedLabel] = "true",
                [DockerComputerProvider.SessionLabel] = child.ToString("D"),
                [DockerComputerProvider.RoleLabel] = "copy",
            },
            HostConfig = new Docker.DotNet.Models.HostConfig
            {
                Mounts = [new Docker.DotNet.Models.Mount { Type = "volume", Source = DockerComputerProvider.NameOf(parent), Target = "/from", ReadOnly = true }],
            },
        });
        await fixture.Docker.Containers.StartContainerAsync(helper.ID, new Docker.DotNet.Models.ContainerStartParameters());

        await _provider.DeleteAsync(parent, CancellationToken.None);

        Assert.False(await _probe.VolumeExistsAsync(parent));
        Assert.Null(await _probe.InspectAsync(parent));
        await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => fixture.Docker.Containers.InspectContainerAsync(helper.ID));
    }

    [Fact]
    public async Task CopyFromASessionWithoutAVolumeFailsWithAReasonForItsOwner()
    {
        var parent = _probe.NewSession();
        var child = _probe.NewSession();

        var failure = await Assert.ThrowsAsync<ComputerCopyFailedException>(() =>
            _provider.CopyVolumeAsync(parent, child, new CopyParts(Data: true, Code: true, Secrets: true), CancellationToken.None));

        Assert.Equal("The parent session's files could not be copied: its volume does not exist.", failure.Message);
        Assert.False(SessionWorker.IsTransient(failure, new WorkItem { Kind = WorkKinds.Remix }));
        Assert.Equal(failure.Message, SessionWorker.Reason(failure, WorkKinds.Remix));
        Assert.False(await _probe.VolumeExistsAsync(child));
    }

    [Fact]
    public async Task CopyOfOnlyDataGivesTheChildOnlyData()
    {
        var parent = _probe.NewSession();
        var child = _probe.NewSession();
        var created = await _provider.CreateAsync(Spec(parent), CancellationToken.None);
        await _probe.PutFileAsync(created.ContainerId, "data/input.csv", Encoding.UTF8.GetBytes("a,b\n1,2\n"));
        await _probe.WaitForSetupStatusAsync(parent, SetupWait);

        await _provider.CopyVolumeAsync(parent, child, new CopyParts(Data: true, Code: false, Secrets: false), CancellationToken.None);

        var files = await _probe.ReadVolumeAsync(child);
        Assert.Equal(["", "code", "data", "data/input.csv", "logs", "secrets"], files.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("a,b\n1,2\n", files["data/input.csv"].Text);
        Assert.Equal(1000, files["data/input.csv"].Uid);
        Assert.Equal(1000, files[""].Uid);
        Assert.Null(await _probe.InspectAsync(child));
        Assert.DoesNotContain(await _provider.ListAsync(CancellationToken.None), computer => computer.SessionId == child);
    }

    [Fact]
    public async Task ComputerWithoutEgressHasNoNetworkButLoopback()
    {
        var id = _probe.NewSession();
        var provider = fixture.Provider(settings => settings.Egress = ComputerEgress.None);

        await provider.CreateAsync(Spec(id), CancellationToken.None);

        Assert.Equal("none", (await _probe.InspectAsync(id))!.HostConfig.NetworkMode);
        var exec = await fixture.Docker.Exec.ExecCreateContainerAsync($"raworc-session-{id:D}", new Docker.DotNet.Models.ContainerExecCreateParameters
        {
            Cmd = ["bash", "-c", "python3 -c 'import socket; print(*sorted(n for _, n in socket.if_nameindex()))';"
                + " timeout 3 bash -c 'exec 3<>/dev/tcp/192.0.2.1/80' 2>/dev/null; echo connect=$?"],
            AttachStdout = true,
        });
        using var stream = await fixture.Docker.Exec.StartAndAttachContainerExecAsync(exec.ID, tty: false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (stdout, _) = await stream.ReadOutputToEndAsync(timeout.Token);
        // 1: "Network is unreachable" at once (192.0.2.1 is a documentation address): no route at all, no packet sent.
        Assert.Equal("lo\nconnect=1\n", stdout);
    }

    [Fact]
    public async Task CopyOfAPartThatIsASymlinkCopiesNothingOfWhereItPoints()
    {
        var parent = _probe.NewSession();
        var child = _probe.NewSession();
        await _provider.CreateAsync(Spec(parent), CancellationToken.None);
        await _probe.WaitForSetupStatusAsync(parent, SetupWait);
        // What a session's code can do to its own volume: its data folder becomes a link to the copier's root.
        var exec = await fixture.Docker.Exec.ExecCreateContainerAsync($"raworc-session-{parent:D}", new Docker.DotNet.Models.ContainerExecCreateParameters
        {
            Cmd = ["bash", "-c", "mv /session/data /session/data.real && ln -s / /session/data && echo linked"],
            AttachStdout = true,
            User = "raworc",
        });
        using (var stream = await fixture.Docker.Exec.StartAndAttachContainerExecAsync(exec.ID, tty: false))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            Assert.Equal("linked\n", (await stream.ReadOutputToEndAsync(timeout.Token)).stdout);
        }

        await _provider.CopyVolumeAsync(parent, child, new CopyParts(Data: true, Code: false, Secrets: false), CancellationToken.None);

        var files = await _probe.ReadVolumeAsync(child);
        Assert.Equal(["", "code", "data", "logs", "secrets"], files.Keys.Order(StringComparer.Ordinal));
        Assert.True(files["data"].IsDirectory);
    }

    [Fact]
    public async Task DeleteRemovesContainerAndVolumeAndCanBeRepeated()
    {
        var id = _probe.NewSession();
        await _provider.CreateAsync(Spec(id), CancellationToken.None);

        await _provider.DeleteAsync(id, CancellationToken.None);

        Assert.Null(await _probe.InspectAsync(id));
        Assert.False(await _probe.VolumeExistsAsync(id));
        await _provider.DeleteAsync(id, CancellationToken.None);
    }

    [Fact]
    public async Task SetupStatusTheSessionsCodeMadeEnormousIsReadOnlyAsFarAsItsFirst64KiB()
    {
        // Found by a break-out attempt: the API read the whole file into memory before its 64 KiB cap, so a sparse
        // file of a few GiB (it takes no disk) made the API allocate gigabytes at every ready report of the session.
        var id = _probe.NewSession();
        const string Enormous = """
            printf 'result=failed\nexit_code=7\n' > /session/logs/setup.status
            truncate -s 3G /session/logs/setup.status
            mkdir /session/logs/setup.status.tmp
            echo done > /session/logs/enormous
            """;
        await _provider.CreateAsync(Spec(id, setup: Enormous), CancellationToken.None);
        await Waits.UntilAsync(async () => await _provider.ReadFileAsync(id, "/session/logs/enormous", CancellationToken.None) == "done\n",
            "the setup script made its enormous status file", SetupWait);

        var text = await _provider.ReadFileAsync(id, SetupReport.StatusPath, CancellationToken.None);

        Assert.NotNull(text);
        Assert.Equal(DockerComputerProvider.MaxReadBytes, text.Length);
        Assert.StartsWith("result=failed\nexit_code=7\n\0", text, StringComparison.Ordinal);
        Assert.Null(await _provider.ReadFileAsync(id, SetupReport.StatusPath + ".tmp", CancellationToken.None));
    }

    [Fact]
    public async Task SetupThatNeverEndsIsCutOffAtItsTimeLimitAndTheAgentStillStarts()
    {
        var id = _probe.NewSession();
        var provider = fixture.Provider(settings => settings.SetupTimeoutSeconds = 2);

        await provider.CreateAsync(Spec(id, setup: "echo started\nsleep infinity\n"), CancellationToken.None);

        var status = await _probe.WaitForSetupStatusAsync(id, SetupWait);
        Assert.Equal("timeout", status["result"]);
        Assert.Equal("124", status["exit_code"]);
        Assert.Equal("2", status["timeout_seconds"]);
        Assert.EndsWith("started\n", (await _probe.ReadVolumeAsync(id))["logs/setup.log"].Text);
        Assert.True((await _probe.InspectAsync(id))!.State.Running);
    }

    [Fact]
    public async Task ImageThatDoesNotExistIsAClearErrorAndLeavesNothingBehind()
    {
        var id = _probe.NewSession();
        var provider = fixture.Provider(settings => settings.Image = "raworc/no-such-image:never");

        var error = await Assert.ThrowsAsync<ComputerImageNotFoundException>(() => provider.CreateAsync(Spec(id), CancellationToken.None));

        Assert.Equal("raworc/no-such-image:never", error.Image);
        Assert.Contains("'raworc/no-such-image:never' does not exist", error.Message);
        Assert.DoesNotContain(SecretValue, error.Message);
        Assert.Null(await _probe.InspectAsync(id));
        Assert.False(await _probe.VolumeExistsAsync(id));
    }

    [Fact]
    public async Task RuntimeTheEngineDoesNotKnowIsAClearErrorAndLeavesNothingBehind()
    {
        var id = _probe.NewSession();
        var provider = fixture.Provider(settings => settings.Runtime = "raworc-no-such-runtime");

        var error = await Assert.ThrowsAsync<ComputerRuntimeNotFoundException>(() => provider.CreateAsync(Spec(id), CancellationToken.None));

        Assert.Equal("raworc-no-such-runtime", error.Runtime);
        Assert.Equal(
            "The container runtime 'raworc-no-such-runtime' is not registered with the Docker engine; run eng/gvisor.sh for runsc, "
            + "or set Computers:Runtime to a runtime that `docker info` lists.",
            error.Message);
        Assert.Null(await _probe.InspectAsync(id));
        Assert.False(await _probe.VolumeExistsAsync(id));
    }

    [Fact]
    public async Task ListReportsRunningAndKilledComputersWithTheExitCode()
    {
        var running = _probe.NewSession();
        var killed = _probe.NewSession();
        await _provider.CreateAsync(Spec(running), CancellationToken.None);
        var handle = await _provider.CreateAsync(Spec(killed), CancellationToken.None);
        await fixture.Docker.Containers.KillContainerAsync(handle.ContainerId, new Docker.DotNet.Models.ContainerKillParameters());
        await fixture.Docker.Containers.WaitContainerAsync(handle.ContainerId);

        var computers = await _provider.ListAsync(CancellationToken.None);

        Assert.Contains(computers, computer => computer is { State: ComputerState.Running, ExitCode: null } && computer.SessionId == running);
        Assert.Contains(computers, computer => computer with { ImageId = null } == new ComputerInfo(killed, handle.ContainerId, ComputerState.Exited, 137));
    }

    [Fact]
    public async Task EngineReachabilityIsReportedWithoutThrowing()
    {
        Assert.True(await _provider.IsReachableAsync(CancellationToken.None));
        using var nowhere = new DockerClientConfiguration(new Uri("unix:///tmp/raworc-no-engine.sock")).CreateClient();
        var options = Microsoft.Extensions.Options.Options.Create(new ComputerOptions());
        var unreachable = new DockerComputerProvider(nowhere, options,
            new ComputerNetwork(nowhere, options, Microsoft.Extensions.Logging.Abstractions.NullLogger<ComputerNetwork>.Instance),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<DockerComputerProvider>.Instance);
        Assert.False(await unreachable.IsReachableAsync(CancellationToken.None));
    }

    [Fact]
    public async Task SecretWithAnInvalidNameIsRefusedWithoutItsValue()
    {
        var id = _probe.NewSession();
        var spec = Spec(id) with { Secrets = new Dictionary<string, string> { ["../evil"] = SecretValue } };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => _provider.CreateAsync(spec, CancellationToken.None));

        Assert.Contains("'../evil'", error.Message);
        Assert.DoesNotContain(SecretValue, error.Message);
        Assert.False(await _probe.VolumeExistsAsync(id));
    }
}
