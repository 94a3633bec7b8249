using Raworc.ApiService.Computers;

namespace Raworc.Tests.Computers;

/// <summary>
/// Which file bounds a computer's TCP buffers (<see cref="DockerComputerProvider.TcpMemoryLimitPath"/>), read from the
/// lines of <c>/proc/&lt;pid&gt;/cgroup</c> as this machine's engine writes them (cgroup v1, cgroupfs driver) and as a
/// systemd driver or cgroup v2 would.
/// </summary>
public sealed class TcpMemoryLimitPathTests
{
    [Fact]
    public void TheMemoryControllersLineNamesTheFileUnderCgroupV1()
    {
        string[] lines =
        [
            "12:pids:/docker/0123abcd",
            "9:memory:/docker/0123abcd",
            "2:cpu,cpuacct:/docker/0123abcd",
            "0::/",
        ];
        Assert.Equal("/sys/fs/cgroup/memory/docker/0123abcd/memory.kmem.tcp.limit_in_bytes", DockerComputerProvider.TcpMemoryLimitPath(lines));
    }

    [Fact]
    public void AControllerSharedWithAnotherAndASystemdSliceAreFound() =>
        Assert.Equal("/sys/fs/cgroup/memory/system.slice/docker-0123abcd.scope/memory.kmem.tcp.limit_in_bytes",
            DockerComputerProvider.TcpMemoryLimitPath(["4:memory,hugetlb:/system.slice/docker-0123abcd.scope/"]));

    [Fact]
    public void CgroupV2HasNoSuchFile() => Assert.Null(DockerComputerProvider.TcpMemoryLimitPath(["0::/system.slice/docker-0123abcd.scope"]));
}
