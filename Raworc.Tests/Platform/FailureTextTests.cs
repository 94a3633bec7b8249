using System.Diagnostics;

namespace Raworc.Tests.Platform;

/// <summary>
/// The words a log line gives a failure (<c>FailureText.DescribeForLog</c>): for one nobody foresaw, its broad kind and
/// the component that raised it, never its type's name, message or stack trace.
/// </summary>
public sealed class FailureTextTests
{
    // FailureText is compiled into the API and the Host agent alike (internal to each): the API's, by name.
    private static readonly System.Reflection.MethodInfo ForLog = typeof(Raworc.ApiService.Computers.ComputerOptions).Assembly
        .GetType("Raworc.FailureText", throwOnError: true)!.GetMethod("DescribeForLog")!;

    private static string DescribeForLog(Exception exception) => (string)ForLog.Invoke(null, [exception])!;

    [Fact]
    public void AKnownFailureReadsTheSameInTheLogAsInASessionsError()
    {
        var refused = new HttpRequestException("Connection refused (10.0.0.5:2375)",
            new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));

        Assert.Equal("the connection was refused", DescribeForLog(refused));
    }

    [Fact]
    public void AVolumeFilesystemFailureNamesTheToolButNotWhatItSaidOfThisMachinesPaths()
    {
        var umount = new Raworc.ApiService.Computers.VolumeFileSystemException(
            "umount exited with code 32: umount: /var/lib/raworc/volume-filesystems/mnt/raworc-session-1: target is busy.", tool: "umount");
        var missing = new Raworc.ApiService.Computers.VolumeFileSystemException("The session's filesystem is missing from this machine.");

        Assert.Equal("umount failed on the session volume's own filesystem", DescribeForLog(umount));
        Assert.Equal("the session volume's own filesystem could not be made, mounted or checked", DescribeForLog(missing));
    }

    [Fact]
    public void ASwarmTaskTheEngineEndedNamesTheNodeAndTheTaskStateButNotTheEnginesWords()
    {
        var ended = new Raworc.ApiService.Computers.Swarm.ComputerTaskFailedException("n0de1d", "rejected");

        Assert.Equal("The engine of cluster node n0de1d ended this session's computer before it ran (task rejected); the API's log has the engine's reason.",
            DescribeForLog(ended));
    }

    [Fact]
    public void AnUnforeseenFailureNamesItsKindAndTheComponentThatRaisedItButNoTypeNorMessage()
    {
        Exception raised;
        try
        {
            _ = new Dictionary<string, int>()["Host=postgres;Password=secret"];
            throw new UnreachableException();
        }
        catch (KeyNotFoundException ex)
        {
            raised = new InvalidOperationException("wrapping Password=secret", ex);
        }

        Assert.Equal("an unexpected error: a missing entry, raised in .NET", DescribeForLog(raised));
    }

    [Theory]
    [InlineData("Docker.DotNet", "an unexpected error: an operation in the wrong state, raised in Docker.DotNet")]
    [InlineData("Raworc.ApiService", "an unexpected error: an operation in the wrong state, raised in Raworc's own code")]
    [InlineData("Host=db;Password=secret", "an unexpected error: an operation in the wrong state, raised in an unknown component")]
    [InlineData(null, "an unexpected error: an operation in the wrong state, raised in an unknown component")]
    public void TheComponentIsALibrarysPlainNameOrSaysNothing(string? source, string expected)
    {
        var failure = new InvalidOperationException("Password=secret") { Source = source };

        Assert.Equal(expected, DescribeForLog(failure));
    }
}
