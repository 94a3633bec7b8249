using Raworc.ApiService.Computers;

namespace Raworc.Tests.Computers;

/// <summary>
/// Which folder holds a computer's memory cgroup, whose files bound and measure its TCP buffers
/// (<see cref="DockerComputerProvider.MemoryCgroupPath"/>), read from the
/// lines of <c>/proc/&lt;pid&gt;/cgroup</c> as this machine's engine writes them (cgroup v1, cgroupfs driver) and as a
/// systemd driver or cgroup v2 would.
/// </summary>
public sealed class MemoryCgroupPathTests
{
    [Fact]
    public void TheMemoryControllersLineNamesTheFolderUnderCgroupV1()
    {
        string[] lines =
        [
            "12:pids:/docker/0123abcd",
            "9:memory:/docker/0123abcd",
            "2:cpu,cpuacct:/docker/0123abcd",
            "0::/",
        ];
        Assert.Equal("/sys/fs/cgroup/memory/docker/0123abcd", DockerComputerProvider.MemoryCgroupPath(lines));
    }

    [Fact]
    public void AControllerSharedWithAnotherAndASystemdSliceAreFound() =>
        Assert.Equal("/sys/fs/cgroup/memory/system.slice/docker-0123abcd.scope",
            DockerComputerProvider.MemoryCgroupPath(["4:memory,hugetlb:/system.slice/docker-0123abcd.scope/"]));

    [Fact]
    public void CgroupV2HasNoSuchFolder() => Assert.Null(DockerComputerProvider.MemoryCgroupPath(["0::/system.slice/docker-0123abcd.scope"]));
}
