/* The `delete` action (shim-protocol.md §2.5): containerd runs it after every task deletion
 * (1.6) and when a daemon died. It must work with no daemon: kill what is left in the container's
 * cgroup, unmount the rootfs, drop a dead daemon's socket, and print a DeleteResponse with the
 * real exit status when the daemon recorded one (137, as runc-v2 reports, otherwise). No exec of
 * anything, and nothing but the state file and the reply when the daemon recorded that its Delete
 * already cleaned up. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "containerd/task/v2/shim.pb-c.h"
#include "runtime/runtime.h"
#include "runtime/util.h"
#include "shim/shim.h"
#include "shim/state.h"

/* The daemon serving ./address, if it is dead, leaves its socket file: remove it. A live one
 * (another container of the same group) keeps it. */
static void drop_dead_socket(const char *bundle)
{
	_cleanup_free_ char *apath = xasprintf("%s/address", bundle);
	_cleanup_free_ char *addr = NULL;
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path;

	if (read_file(apath, 4096, &addr, NULL) < 0)
		return;
	path = strncmp(addr, "unix://", 7) == 0 ? addr + 7 : addr;
	if (*path != '/' || strlen(path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == ECONNREFUSED)
		unlink(path);
}

/* What a dead daemon left: the processes in the container's cgroup and the cgroup itself, the
 * rootfs mount, the socket. Each step is idempotent, so this is also right after a daemon that
 * died in the middle of its own cleanup. */
static void cleanup(const char *bundle, const struct shim_state *st)
{
	_cleanup_err_ struct wren_err *err = NULL;
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", bundle);

	/* Failures are warnings on stderr, which containerd logs; the response stays valid. */
	if (st->cgroup[0] && rt_cgroup_cleanup(st->cgroup, &err) < 0) {
		fprintf(stderr, "cleanup cgroup %s: %s\n", st->cgroup, err->msg);
		wren_err_freep(&err);
	}
	if (rt_rootfs_unmount(rootfs, &err) < 0)
		fprintf(stderr, "%s\n", err->msg);
	drop_dead_socket(bundle);
}

int shim_action_delete(const struct shim_flags *f)
{
	_cleanup_err_ struct wren_err *err = NULL;
	_cleanup_free_ char *bundle = NULL;
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct shim_state st;
	struct timespec now;
	uint8_t out[64];
	size_t n;

	if (f->bundle && *f->bundle) {
		bundle = xstrdup(f->bundle);
	} else {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd))) {
			fprintf(stderr, "getcwd: %s\n", strerror(errno));
			return 1;
		}
		bundle = xstrdup(cwd);
	}

	if (shim_state_read(bundle, &st, &err) < 0) {
		/* Never created (or the create failed before anything ran): nothing to kill. */
		wren_err_freep(&err);
		memset(&st, 0, sizeof(st));
	}
	/* After a Delete served by a live daemon (every deletion, with containerd 1.6), that
	 * daemon already removed the cgroup and unmounted the rootfs, and said so; it unlinks its
	 * socket when it exits. Only a daemon that died before that write leaves work here. (One
	 * killed after it leaves its socket file: the next start on that path finds it dead and
	 * replaces it.) */
	if (!st.cleaned)
		cleanup(bundle, &st);

	resp.pid = (uint32_t)st.pid;
	if (st.exited) {
		resp.exit_status = st.exit_status;
		ts.seconds = st.exited_sec;
		ts.nanos = st.exited_nsec;
	} else {
		clock_gettime(CLOCK_REALTIME, &now);
		resp.exit_status = 128 + SIGKILL;
		ts.seconds = now.tv_sec;
		ts.nanos = (int32_t)now.tv_nsec;
	}
	resp.exited_at = &ts;
	n = containerd__task__v2__delete_response__pack(&resp, out);
	if (write_all(STDOUT_FILENO, out, n) < 0)
		return 1;
	return 0;
}
