/* How the `start` action brings the daemon up (shim-protocol.md §2.3): the address file that
 * containerd reads on reconnect, the daemon process itself (listener on fd 3, stdio on
 * /dev/null, its own process group; forked, not exec'd) and its OOM score. start.c owns the
 * protocol with containerd (stdin options, stdout reply); this file owns the process work. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/util.h"
#include "shim/shim.h"

/* containerd 1.6 reads ./address verbatim on reconnect: no trailing newline, written atomically.
 * The rename gives the atomicity (a reader sees the old file or the whole new one). No O_SYNC:
 * containerd reads the file only when it reconnects after its own restart, and after a machine
 * crash neither the socket nor the daemon exists, so durability buys nothing; the synchronous
 * write was a block-layer flush per container on a disk-backed state dir. */
int shim_write_address(const char *address, struct wren_err **err)
{
	_cleanup_close_ int fd = -1;

	unlink(".address");
	fd = open(".address", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return wren_err_errno(err, errno, "create address file");
	if (write_all(fd, address, strlen(address)) < 0)
		return wren_err_errno(err, errno, "write address file");
	if (rename(".address", "address") < 0)
		return wren_err_errno(err, errno, "rename address file");
	return 0;
}

/* The child of the start action's fork becomes the daemon without an exec: a second image of the
 * same binary would cost a dynamic load and relocation per container (~1 ms, a quarter of the
 * daemon's instructions) for nothing. What an exec would have reset is reset by hand: stdio goes
 * to /dev/null (containerd reads our stdout/stderr pipes to EOF), the listener becomes fd 3 and
 * every other descriptor is closed (CLOEXEC ones included: the exec used to close those), the
 * daemon gets its own process group, and the signal dispositions are what an exec would leave
 * (see below). The start action's few heap blocks stay behind unused (its cleanup attributes run
 * only in the parent). Never returns. */
static void become_daemon(const struct shim_flags *f, int lfd)
{
	struct shim_flags df = {
	    .namespace = f->namespace,
	    .id = f->id,
	    .address = f->address ? f->address : "",
	    .debug = f->debug,
	};
	int devnull = open("/dev/null", O_RDWR);

	setpgid(0, 0);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
		_exit(127);
	/* dup2 clears CLOEXEC on fd 3, but is a no-op when the listener already is fd 3. */
	if (lfd == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(lfd, 3) < 0)
		_exit(127);
	if (close_range(4, ~0U, 0) < 0)
		for (int fd = 4; fd < 1024; fd++)
			close(fd);
	/* An exec would reset caught signals to their defaults and keep ignored ones. The start
	 * action catches none (nothing in it calls sigaction or signal), so there is nothing to
	 * reset: asking the kernel about all 64 cost 63 system calls per container. What it ignores
	 * it inherited from containerd, and is kept, as an exec keeps it, with one exception: an
	 * ignored SIGCHLD makes the kernel reap our children itself, and their exit statuses would
	 * be lost. (The container's processes get default dispositions from the runtime, and the
	 * daemon's helpers from shim_child_spawnattr.) */
	signal(SIGCHLD, SIG_DFL);
	/* ps shows the daemon as the start action's command line: drop the word "start" from it
	 * (it points into the argv area the kernel reports in /proc/PID/cmdline). */
	if (f->action)
		memset((char *)f->action, 0, strlen(f->action));
	int rc = shim_daemon_run(&df);
	fflush(NULL);
	_exit(rc);
}

pid_t shim_spawn_daemon(const struct shim_flags *f, int lfd, struct wren_err **err)
{
	pid_t pid;

	/* Nothing buffered may be written twice (once by each process). */
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return wren_err_errno(err, errno, "fork daemon");
	if (pid == 0)
		become_daemon(f, lfd);
	return pid;
}

/* The daemon's oom_score_adj is containerd's + 1 (containerd is our parent), so that the OOM
 * killer picks a shim before containerd. Errors are ignored (unprivileged containerd). */
void shim_adjust_oom(pid_t daemon)
{
	char path[64], buf[32];
	_cleanup_free_ char *cur = NULL;
	long v;

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)getppid());
	if (read_file(path, 64, &cur, NULL) < 0)
		return;
	v = strtol(cur, NULL, 10) + 1;
	if (v > 1000)
		v = 1000;
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)daemon);
	snprintf(buf, sizeof(buf), "%ld", v);
	write_file(path, buf, strlen(buf), false);
}
