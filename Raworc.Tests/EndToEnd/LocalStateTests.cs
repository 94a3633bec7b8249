using Docker.DotNet;
using Docker.DotNet.Models;
using Raworc.ApiService.Computers;
using Raworc.Tests.HostAgent;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.EndToEnd;

/// <summary>
/// A system with computers whose Postgres keeps its data in a volume of its own, which it can stop and start again
/// as stopping and starting <c>eng/run.sh</c> does. The volume is removed when the fixture goes.
/// </summary>
public sealed class LocalStateFixture : ComputersAppFixture
{
    private const string PostgresPassword = "local-state-postgres-password-1";

    /// <summary>The <c>Raworc:DataVolume</c> of this fixture; the volume's name adds the PostgreSQL major version.</summary>
    public string VolumePrefix { get; } = $"raworc-test-data-{Guid.NewGuid().ToString("N")[..12]}";

    protected override string DataVolume => VolumePrefix;

    // Given, not generated: parallel test runs on one machine share the AppHost's user secrets.
    protected override IEnumerable<string> ExtraArguments =>
        [.. base.ExtraArguments, $"--Parameters:{ResourceNames.Postgres}-password={PostgresPassword}"];

    /// <summary>The fixture's data volumes (one, named after <see cref="VolumePrefix"/>).</summary>
    public async Task<List<string>> DataVolumesAsync(DockerClient docker) =>
        ((await docker.Volumes.ListAsync(new VolumesListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["name"] = new Dictionary<string, bool> { [VolumePrefix] = true } },
        })).Volumes ?? []).Select(v => v.Name).ToList();

    /// <summary>
    /// Stops the whole AppHost and starts it again on the same volume. Waits in between until no container holds the
    /// volume, so the new Postgres never meets the old one on the same files.
    /// </summary>
    public async Task RestartAsync()
    {
        await StopAppAsync();
        var volumes = await DataVolumesAsync(Docker);
        await Waits.UntilAsync(async () => (await Docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["volume"] = volumes.ToDictionary(v => v, _ => true) },
        })).Count == 0, "the stopped Postgres lets go of its volume", TimeSpan.FromMinutes(1));
        await StartAppAsync();
    }

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            await RemoveDataVolumesAsync();
        }
    }

    private async Task RemoveDataVolumesAsync()
    {
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        foreach (var volume in await DataVolumesAsync(docker))
        {
            await docker.Volumes.RemoveAsync(volume, force: true);
        }
    }
}

/// <summary>The system that restarts on its data volume has a collection of its own: nothing else waits on it.</summary>
[CollectionDefinition(Name)]
public sealed class LocalStateCollection : ICollectionFixture<LocalStateFixture>
{
    public const string Name = "Raworc with a data volume, restarted";
}

/// <summary>Stopping the whole system and starting it again loses nothing (README, "Local state").</summary>
[ComputerLane]
[Collection(LocalStateCollection.Name)]
public sealed class LocalStateTests(LocalStateFixture fixture)
{
    [Fact]
    public async Task AfterTheWholeSystemRestartsOnItsVolumeEverythingIsThereAndAnIdleSessionAnswers()
    {
        const string pass = "keeper-pass-1";
        var (name, client) = await fixture.CreateOperatorAsync("keeper", pass: pass);
        var token = (string)client.DefaultRequestHeaders.Authorization!.Parameter!;
        var key = ComputersAppFixture.NewModelKey();
        var sessionName = SessionTestExtensions.UniqueName("kept");
        Guid id;
        Guid closed;
        using (client)
        {
            id = (await client.CreateSessionAsync(new { name = sessionName, secrets = new { OPENAI_API_KEY = key } })).Id();
            closed = (await client.CreateSessionAsync()).Id();
            await client.WaitForStateAsync(id, "idle", TimeSpan.FromSeconds(ComputersAppFixture.StartDeadlineSeconds + 15));
            await client.WaitForStateAsync(closed, "idle", TimeSpan.FromSeconds(ComputersAppFixture.StartDeadlineSeconds + 15));
            await client.PostOkAsync($"/api/v0/sessions/{closed}/close");
            await client.WaitForStateAsync(closed, "closed");
            fixture.Model.EnqueueFor(key, ScriptStep.Answer("first answer"));
            await client.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "before the restart" });
            await client.WaitForMessagesAsync(id, m => m.HasResponse());
            await client.WaitForStateAsync(id, "idle");
        }
        var written = await fixture.RunInsideAsync(id, "printf kept > /session/code/kept.txt && printf note > /session/data/note.txt");
        Assert.Equal(0, written.ExitCode);
        var messagesBefore = await fixture.QueryAsync<string>(
            "SELECT id::text || ':' || role || ':' || content FROM messages WHERE session_id = @id ORDER BY seq", ("id", id));
        Assert.Equal(2, messagesBefore.Count);
        var containerBefore = (await fixture.Probe.InspectAsync(id))!.ID;
        var deployment = Assert.Single(await fixture.QueryAsync<string>("SELECT id FROM deployment"));
        // A volume whose session does not exist (a delete that never finished): nobody could ever reach it.
        var stray = Guid.NewGuid();
        // On Swarm on a node's engine (the first one's), where the provider keeps volumes.
        await (await fixture.EnginesAsync())[0].Volumes.CreateAsync(new VolumesCreateParameters
        {
            Name = DockerComputerProvider.NameOf(stray),
            Labels = new Dictionary<string, string>
            {
                [DockerComputerProvider.ManagedLabel] = "true",
                [DockerComputerProvider.SessionLabel] = stray.ToString(),
                [DockerComputerProvider.DeploymentLabel] = deployment,
            },
        });

        await fixture.RestartAsync();

        Assert.Equal(deployment, Assert.Single(await fixture.QueryAsync<string>("SELECT id FROM deployment")));
        // The operator, its password and the token of the first run.
        using var again = fixture.CreateApiClient(token);
        var session = await again.GetSessionAsync(id.ToString());
        Assert.Equal(sessionName, (string?)session["name"]);
        Assert.Equal("idle", (string?)session["state"]);
        using (fixture.CreateApiClient(await fixture.LoginAsync(name, pass)))
        {
        }
        Assert.Equal(messagesBefore, await fixture.QueryAsync<string>(
            "SELECT id::text || ':' || role || ':' || content FROM messages WHERE session_id = @id ORDER BY seq", ("id", id)));
        // The computer of the first run was adopted, not replaced, and its files are where they were.
        var adopted = await fixture.Probe.InspectAsync(id);
        Assert.Equal(containerBefore, adopted!.ID);
        Assert.True(adopted.State.Running);
        var read = await fixture.RunInsideAsync(id, "cat /session/code/kept.txt /session/data/note.txt");
        Assert.Equal((0L, "keptnote"), (read.ExitCode, read.Stdout));

        fixture.Model.EnqueueFor(key, ScriptStep.Answer("second answer"));
        await again.PostOkAsync($"/api/v0/sessions/{id}/messages", new { content = "after the restart" });
        // The agent rode out the downtime on its backoff (at most 30 s between tries).
        var messages = await again.WaitForMessagesAsync(id,
            m => m.Count(x => (string?)x!["role"] == "host" && (string?)x["metadata"]?["type"] == "response") == 2, TimeSpan.FromSeconds(120));
        Assert.Equal("second answer", (string?)messages.Last(m => (string?)m!["role"] == "host")!["content"]);

        await Waits.UntilAsync(async () => !await fixture.Probe.VolumeExistsAsync(stray), "the volume without a session is removed");
        // A closed session's volume is its files: the pass that removed the stray one keeps it.
        Assert.Equal("closed", (string?)(await again.GetSessionAsync(closed.ToString()))["state"]);
        Assert.True(await fixture.Probe.VolumeExistsAsync(closed));
    }
}
