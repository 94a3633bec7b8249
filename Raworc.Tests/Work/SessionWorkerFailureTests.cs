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
    public void EngineErrorsAreRetriedAndABadRequestIsNot()
    {
        var item = new WorkItem { Kind = WorkKinds.Create };

        Assert.True(SessionWorker.IsTransient(new DockerApiException(System.Net.HttpStatusCode.InternalServerError, "engine"), item));
        Assert.False(SessionWorker.IsTransient(new DockerApiException(System.Net.HttpStatusCode.BadRequest, "bad"), item));
    }
}
