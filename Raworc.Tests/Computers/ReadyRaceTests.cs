using Aspire.Hosting.Testing;
using Raworc.ApiService.Computers;
using Raworc.Tests.Infrastructure;
using Raworc.Tests.Sessions;

namespace Raworc.Tests.Computers;

/// <summary>
/// The order of a computer's ready report and the create work item's record of the computer (container id, volume), which
/// once left a session <c>idle</c> with no <c>container_id</c> (seen in the warm pool's 20 concurrent creates).
/// </summary>
[ComputerLane]
[Collection(ComputersAppCollection.Name)]
public sealed class ReadyRaceTests(ComputersAppFixture fixture) : IAsyncLifetime
{
    /// <summary>On Swarm, deletes the sessions earlier tests left (<see cref="ComputersAppFixture.MakeRoomAsync"/>).</summary>
    public Task InitializeAsync() => fixture.MakeRoomAsync();

    /// <inheritdoc />
    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task AReadyReportThatCommitsBeforeTheWorkerRecordsTheComputerStillLeavesTheIdleSessionWithItsContainer()
    {
        var (_, client) = await fixture.CreateOperatorAsync("ready-race");
        using var _ = client;
        var id = (await client.CreateSessionAsync(new { })).Id();

        // The Host's ready report (through the real route, with the session's Host token) is held open after it has moved
        // the session to idle: its state_changes row waits on this lock, so the report holds the session's row until the
        // worker's record of the computer queues behind it. Releasing the lock then commits the report first.
        await using var connection = new Npgsql.NpgsqlConnection(await fixture.App.GetConnectionStringAsync(ResourceNames.Database));
        await connection.OpenAsync();
        await using var hold = await connection.BeginTransactionAsync();
        await using (var lockTable = new Npgsql.NpgsqlCommand("LOCK TABLE state_changes IN SHARE MODE", connection, hold))
        {
            await lockTable.ExecuteNonQueryAsync();
        }
        using var host = fixture.CreateHostClient(id);
        var report = host.PostAsync($"/api/v0/sessions/{id}/idle", Http.Json(new { }));
        try
        {
            await Waits.UntilAsync(async () => (await fixture.QueryAsync<long>(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE sessions%container_id%'"))[0] > 0
                || (await fixture.QueryAsync<bool>("SELECT container_id IS NOT NULL FROM sessions WHERE id = @id", ("id", id)))[0],
                "the worker's record of the computer waits behind the ready report (or is already done)", TimeSpan.FromSeconds(120));
        }
        finally
        {
            await hold.CommitAsync();
        }
        using var answer = await report.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(answer.IsSuccessStatusCode, $"the ready report answered {(int)answer.StatusCode}");
        await Waits.UntilAsync(async () => (await fixture.QueryAsync<long>("SELECT count(*) FROM work_items WHERE session_id = @id", ("id", id)))[0] == 0,
            "the create work item is done", TimeSpan.FromSeconds(120));

        var session = await client.GetSessionAsync(id.ToString());
        var container = await fixture.InspectContainerAsync(id);
        Assert.Equal("idle", (string?)session["state"]);
        Assert.Equal(container.ID, (string?)session["container_id"]);
        Assert.Equal(DockerComputerProvider.NameOf(id), (string?)session["persistent_volume_id"]);
        await client.PostOkAsync($"/api/v0/sessions/{id}/close");
    }
}
