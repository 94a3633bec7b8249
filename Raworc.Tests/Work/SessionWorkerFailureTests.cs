using Docker.DotNet;
using Raworc.ApiService.Computers;
using Raworc.ApiService.Work;

namespace Raworc.Tests.Work;

/// <summary>
/// How the worker sorts a failed computer operation: the session's own problem errors it at once with a readable reason;
/// the engine's trouble is retried. (The missing-image case is also shown end to end in <c>SessionComputersTests</c>.)
/// </summary>
public sealed class SessionWorkerFailureTests
{
    [Theory]
    [InlineData(WorkKinds.Create)]
    [InlineData(WorkKinds.Restore)]
    [InlineData(WorkKinds.Remix)]
    public void UnknownRuntimeErrorsTheSessionAtOnceWithTheProvidersMessage(string kind)
    {
        var error = new ComputerRuntimeNotFoundException("runsc");

        Assert.False(SessionWorker.IsTransient(error, new WorkItem { Kind = kind }));
        Assert.Equal(
            "The container runtime 'runsc' is not registered with the Docker engine; run eng/gvisor.sh for runsc, "
            + "or set Computers:Runtime to a runtime that `docker info` lists.",
            SessionWorker.Reason(error));
    }

    [Fact]
    public void AClusterWithNoRoomErrorsTheSessionAtOnceWithTheSchedulersReason()
    {
        var error = new Raworc.ApiService.Computers.Swarm.ComputerNoRoomException(0.5, 512L * 1024 * 1024,
            "no suitable node (insufficient resources on 2 nodes)");

        Assert.False(SessionWorker.IsTransient(error, new WorkItem { Kind = WorkKinds.Create }));
        Assert.Equal(
            "No node of the cluster has room for this session's computer now (it reserves 0.5 CPU and 512 MiB; the cluster's "
            + "scheduler says: no suitable node (insufficient resources on 2 nodes)). Close or delete a session, or add a node, "
            + "and create the session again.",
            SessionWorker.Reason(error));
    }

    [Fact]
    public void EngineErrorsAreRetriedAndABadRequestIsNot()
    {
        var item = new WorkItem { Kind = WorkKinds.Create };

        Assert.True(SessionWorker.IsTransient(new DockerApiException(System.Net.HttpStatusCode.InternalServerError, "engine"), item));
        Assert.False(SessionWorker.IsTransient(new DockerApiException(System.Net.HttpStatusCode.BadRequest, "bad"), item));
    }

    [Fact]
    public void AConflictOfTheEngineIsRetriedAFewTimesThenErrorsTheSession()
    {
        // What the engine answers while another caller is removing the same container: 409.
        var conflict = new DockerApiException(System.Net.HttpStatusCode.Conflict, "removal of container is already in progress");

        Assert.True(SessionWorker.IsTransient(conflict, new WorkItem { Kind = WorkKinds.Restore, Attempts = 0 }));
        Assert.True(SessionWorker.IsTransient(conflict, new WorkItem { Kind = WorkKinds.Restore, Attempts = 3 }));
        Assert.False(SessionWorker.IsTransient(conflict, new WorkItem { Kind = WorkKinds.Restore, Attempts = 4 }));
    }

    [Theory]
    [InlineData(WorkKinds.Close, "The computer could not be stopped: the Docker engine answered 400.")]
    [InlineData(WorkKinds.Delete, "The computer and its volume could not be removed: the Docker engine answered 400.")]
    [InlineData(WorkKinds.Restore, "The computer could not be started: the Docker engine answered 400.")]
    public void TheReasonNamesWhatFailed(string kind, string reason)
    {
        Assert.Equal(reason, SessionWorker.Reason(new DockerApiException(System.Net.HttpStatusCode.BadRequest, "bad"), kind));
    }

    /// <summary>
    /// A session's <c>error</c> is read by its users: it says what failed in words, never the .NET type of the failure nor
    /// its message (which may hold an engine address or a path).
    /// </summary>
    [Theory]
    [InlineData("timeout", "The computer could not be started: the call timed out.")]
    [InlineData("unreachable", "The computer could not be started: the connection failed.")]
    [InlineData("refused", "The computer could not be started: the connection was refused.")]
    [InlineData("postgres", "The computer could not be started: Postgres is unavailable.")]
    [InlineData("redis", "The computer could not be started: Redis is unavailable.")]
    [InlineData("unexpected", "The computer could not be started: an unexpected error (the API's log has the session's id).")]
    [InlineData("volume", "The computer could not be started: mount failed on the session volume's own filesystem.")]
    [InlineData("task", "The engine of cluster node n0de1d ended this session's computer before it ran (task rejected); the API's log has the engine's reason.")]
    public void TheReasonNamesNoTypeAndNoMessage(string failure, string reason)
    {
        Exception ex = failure switch
        {
            "timeout" => new TimeoutException("after 100 s on unix:///var/run/docker.sock"),
            "unreachable" => new HttpRequestException("Connection refused (unix:///var/run/docker.sock)"),
            "refused" => new HttpRequestException("Connection refused (10.0.0.5:2375)",
                new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused)),
            "postgres" => new InvalidOperationException("wrapped", new Npgsql.NpgsqlException("Failed to connect to 10.0.0.5:5432")),
            "redis" => new StackExchange.Redis.RedisConnectionException(StackExchange.Redis.ConnectionFailureType.UnableToConnect,
                "It was not possible to connect to the redis server(s). cache:6379,password=secret"),
            "volume" => new Raworc.ApiService.Computers.VolumeFileSystemException(
                "mount exited with code 32: mount: /var/lib/raworc/volume-filesystems/mnt/x: wrong fs type.", tool: "mount"),
            "task" => new Raworc.ApiService.Computers.Swarm.ComputerTaskFailedException("n0de1d", "rejected"),
            _ => new InvalidOperationException("Host=postgres;Password=secret"),
        };

        Assert.Equal(reason, SessionWorker.Reason(ex, WorkKinds.Create));
    }

    [Fact]
    public void ADeleteIsRetriedWhateverTheFailureAndHoweverOften()
    {
        var item = new WorkItem { Kind = WorkKinds.Delete, Attempts = 50 };

        Assert.True(SessionWorker.IsTransient(new DockerApiException(System.Net.HttpStatusCode.Conflict, "volume is in use"), item));
        Assert.True(SessionWorker.IsTransient(new DockerApiException(System.Net.HttpStatusCode.BadRequest, "bad"), item));
        Assert.True(SessionWorker.IsTransient(new InvalidOperationException("unexpected"), item));
    }
}
