namespace Raworc.ApiService.Computers;

/// <summary>
/// Linux's socket option numbers that .NET has no name for, as <see cref="System.Net.Sockets.Socket.SetRawSocketOption"/>
/// and <see cref="System.Net.Sockets.Socket.GetRawSocketOption"/> take them: from asm-generic/socket.h, the same on x86-64
/// and arm64 (the architectures .NET runs Raworc on; a few others, e.g. MIPS and SPARC, number them differently).
/// </summary>
internal static class LinuxSocketOptions
{
    /// <summary><c>SOL_SOCKET</c>: the level of the options below.</summary>
    public const int SolSocket = 1;

    /// <summary><c>SO_REUSEPORT</c>: several sockets of one effective uid may bind the same address.</summary>
    public const int SoReusePort = 15;

    /// <summary><c>SO_PEERCRED</c>: a connected Unix socket's peer as <c>struct ucred</c>, pid, uid and gid as three 32-bit ints.</summary>
    public const int SoPeerCred = 17;
}
