/* Raw syscalls the libc lacks or hides, wrapped in one place. Each returns what the kernel returns
 * (-1 with errno). Header-only: tiny inline wrappers, no state. */
#ifndef WREN_SYSCALLS_H
#define WREN_SYSCALLS_H

#include <errno.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* clone3 as fork(): no new stack, the child returns 0 on the parent's stack copy. Only safe because
 * the daemon is single-threaded. cgroup_fd < 0: no CLONE_INTO_CGROUP. */
static inline pid_t rt_sys_clone3(uint64_t flags, int cgroup_fd, int *pidfd)
{
	struct clone_args args;

	memset(&args, 0, sizeof(args));
	args.flags = flags | CLONE_PIDFD;
	args.pidfd = (uint64_t)(uintptr_t)pidfd;
	args.exit_signal = SIGCHLD;
	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
	}
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

static inline int rt_sys_pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static inline int rt_sys_pidfd_send_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Falls back to a close() loop where close_range is missing (kernels < 5.9). */
static inline int rt_sys_close_range(unsigned int first, unsigned int last, unsigned int flags)
{
	if (syscall(SYS_close_range, first, last, flags) == 0)
		return 0;
	if (errno != ENOSYS || flags != 0)
		return -1;
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = first; fd < max && (unsigned long)fd <= last; fd++)
		close((int)fd);
	return 0;
}

static inline int rt_sys_pivot_root(const char *new_root, const char *put_old)
{
	return (int)syscall(SYS_pivot_root, new_root, put_old);
}

static inline int rt_sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode,
				 uint64_t resolve)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = flags;
	how.mode = mode;
	how.resolve = resolve;
	for (;;) {
		int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		/* openat2 returns EAGAIN when a rename raced the RESOLVE_IN_ROOT walk */
		if (fd >= 0 || (errno != EAGAIN && errno != EINTR))
			return fd;
	}
}

/* The kernel's rt_sigaction, for a child resetting what it inherited: glibc's sigaction refuses
 * the two signals it keeps for itself (32 and 33), so a disposition of theirs that a parent left
 * (GNU make runs its recipes with both ignored) would reach the container otherwise. Only SIG_DFL
 * and SIG_IGN are read or set here, which need no restorer. */
struct rt_kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

static inline int rt_sys_sigaction_get(int sig, struct rt_kernel_sigaction *old)
{
	return (int)syscall(SYS_rt_sigaction, sig, NULL, old, sizeof(old->mask));
}

static inline int rt_sys_sigaction_default(int sig)
{
	struct rt_kernel_sigaction sa = {.handler = SIG_DFL};

	return (int)syscall(SYS_rt_sigaction, sig, &sa, NULL, sizeof(sa.mask));
}

#endif
