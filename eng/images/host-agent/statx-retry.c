/*
 * raworc-statx-retry.so, listed in the computer image's /etc/ld.so.preload: glibc's statx() with one retry.
 *
 * Debian's runsc (gVisor 0.0~20221219) refuses statx() with the flag AT_NO_AUTOMOUNT (EINVAL), and coreutils 9.1 (ls,
 * stat, cp, mv, du, find's helpers...) passes that flag on every call, so under it every one of them failed with
 * "Invalid argument". When statx() fails with EINVAL and the caller passed AT_NO_AUTOMOUNT, this asks once more without
 * it. The flag only stops the call from triggering an automount, and a computer has no automount point, so the answer is
 * the same. Linux (runc) accepts the flag since statx() exists (4.11), so there the retry never happens and every result
 * is the kernel's own. Built by eng/host-agent-image.sh with the host's C compiler (the one Native AOT links with);
 * it uses nothing of libc but syscall() and errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int statx(int dirfd, const char *restrict path, int flags, unsigned int mask, struct statx *restrict buf)
{
  long result = syscall(SYS_statx, dirfd, path, flags, mask, buf);
  if (result == -1 && errno == EINVAL && (flags & AT_NO_AUTOMOUNT) != 0) {
    result = syscall(SYS_statx, dirfd, path, flags & ~AT_NO_AUTOMOUNT, mask, buf);
  }
  return (int)result;
}
