/* How the `start` action brings the daemon up (shim-protocol.md §2.3): the address file that
 * containerd reads on reconnect, the daemon process itself (listener on fd 3, stdio on
 * /dev/null, its own process group) and its OOM score. start.c owns the protocol with
 * containerd (stdin options, stdout reply); this file owns the process work. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/util.h"
#include "shim/shim.h"

/* containerd 1.6 reads ./address verbatim on reconnect: no trailing newline, written atomically. */
int shim_write_address(const char *address, struct wren_err **err)
{
	_cleanup_close_ int fd = -1;

	unlink(".address");
	fd = open(".address", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_SYNC, 0644);
	if (fd < 0)
		return wren_err_errno(err, errno, "create address file");
	if (write_all(fd, address, strlen(address)) < 0)
		return wren_err_errno(err, errno, "write address file");
	if (rename(".address", "address") < 0)
		return wren_err_errno(err, errno, "rename address file");
	return 0;
}

pid_t shim_spawn_daemon(const struct shim_flags *f, int lfd, struct wren_err **err)
{
	pid_t pid;
	const char *argv[10];
	int n = 0;

	argv[n++] = "containerd-shim-wren-v2";
	argv[n++] = "-namespace";
	argv[n++] = f->namespace;
	argv[n++] = "-id";
	argv[n++] = f->id;
	argv[n++] = "-address";
	argv[n++] = f->address ? f->address : "";
	if (f->debug)
		argv[n++] = "-debug";
	argv[n] = NULL;

	pid = fork();
	if (pid < 0)
		return wren_err_errno(err, errno, "fork daemon");
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		setpgid(0, 0);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 ||
		    dup2(devnull, 2) < 0)
			_exit(127);
		/* dup2 clears CLOEXEC on fd 3, but is a no-op when the listener already is fd 3;
		 * everything else we hold is CLOEXEC. */
		if (lfd == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(lfd, 3) < 0)
			_exit(127);
		execv("/proc/self/exe", (char *const *)argv);
		_exit(127);
	}
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
