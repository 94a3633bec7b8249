using System.Runtime.InteropServices;

namespace Raworc.HostAgent.Tools;

/// <summary>The one libc call .NET does not offer: signalling a whole process group.</summary>
internal static class NativeMethods
{
    /// <summary>SIGKILL on Linux.</summary>
    public const int SigKill = 9;

    /// <summary><c>kill(2)</c>: a negative pid signals the process group <c>-pid</c>. Returns 0 or -1.</summary>
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int signal);
}
