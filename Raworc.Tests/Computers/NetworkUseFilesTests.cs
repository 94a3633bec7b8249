using Raworc.ApiService.Computers;

namespace Raworc.Tests.Computers;

/// <summary>
/// How a computer's network use is read from its network namespace's files, as kernel 6.18 writes them here
/// (<see cref="DockerComputerProvider.TcpSocketsInUse"/>, <see cref="DockerComputerProvider.TrackedEntries"/>).
/// </summary>
public sealed class NetworkUseFilesTests
{
    [Fact]
    public void TcpSocketsAreTheInUseFiguresOfTheTcpLinesOfBothFiles()
    {
        string[] sockstat =
        [
            "sockets: used 8431",
            "TCP: inuse 8402 orphan 0 tw 3 alloc 16026 mem 159471",
            "UDP: inuse 2 mem 45",
            "RAW: inuse 0",
        ];
        Assert.Equal(8402, DockerComputerProvider.TcpSocketsInUse(sockstat));
        Assert.Equal(8405, DockerComputerProvider.TcpSocketsInUse([.. sockstat, "TCP6: inuse 3", "UDP6: inuse 1"]));
        Assert.Equal(0, DockerComputerProvider.TcpSocketsInUse(["UDP: inuse 2 mem 45"]));
    }

    [Fact]
    public void TrackedConnectionsAreTheFirstHexadecimalFieldOfTheFirstCpusLine()
    {
        string[] stat =
        [
            "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart",
            "0003fffe  00000000 00000000 00000000 000000b2 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000000",
            "0003fffe  00000000 00000000 00000000 00000072 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000000",
        ];
        Assert.Equal(262_142, DockerComputerProvider.TrackedEntries(stat));
        Assert.Equal(0, DockerComputerProvider.TrackedEntries([stat[0]]));
    }
}
