/* The `start` action (shim-protocol.md §2.3, §10.3): read containerd's input (legacy options Any
 * or 2.3+ BootstrapParams, bootstrap.h), bind the socket, write ./address, spawn the daemon with
 * the socket as fd 3, and answer the address (plain, or a BootstrapResult to 2.3+). containerd
 * reads our stdout and stderr together until EOF and takes all of it as the reply, so nothing else
 * may be printed on success, and the daemon must not inherit either pipe. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/spec.h"
#include "runtime/util.h"
#include "shim/bootstrap.h"
#include "shim/shim.h"

static int unix_addr(const char *path, struct sockaddr_un *sa, struct wren_err **err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "socket path too long: %s",
				     path);
	strcpy(sa->sun_path, path);
	return 0;
}

/* Is a shim already serving on path? A connect that succeeds within 100 ms says yes. */
static bool socket_alive(const char *path)
{
	struct sockaddr_un sa;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct pollfd p;
	int soerr = 0;
	socklen_t l = sizeof(soerr);

	if (fd < 0 || unix_addr(path, &sa, NULL) < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return true;
	if (errno != EINPROGRESS && errno != EAGAIN)
		return false;
	p = (struct pollfd){.fd = fd, .events = POLLOUT};
	if (poll(&p, 1, 100) != 1)
		return false;
	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l) == 0 && soerr == 0;
}

/* Returns the listening fd, or -1 with *reused set when a live shim already owns the path. */
static int listen_on(const char *path, bool *reused, struct wren_err **err)
{
	struct sockaddr_un sa;
	_cleanup_free_ char *dir = xstrdup(path);

	*reused = false;
	if (unix_addr(path, &sa, err) < 0)
		return -1;
	*strrchr(dir, '/') = 0;
	if (mkdir_p(dir, 0700) < 0)
		return wren_err_errno(err, errno, "mkdir %s", dir);
	for (int attempt = 0; attempt < 2; attempt++) {
		_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return wren_err_errno(err, errno, "socket");
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			if (chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
				int e = errno;
				unlink(path);
				return wren_err_errno(err, e, "listen %s", path);
			}
			return steal_fd(&fd);
		}
		if (errno != EADDRINUSE)
			return wren_err_errno(err, errno, "bind %s", path);
		if (socket_alive(path)) {
			*reused = true;
			return -1;
		}
		/* A daemon killed with SIGKILL leaves its socket behind: take it over. */
		unlink(path);
	}
	return wren_err_code(err, WREN_E_UNKNOWN, "bind %s: address still in use", path);
}

/* containerd writes its input (bootstrap.h) and closes the pipe; read it all before anything
 * else, since on 2.3+ it says where the socket goes. More than 1 MiB is not something containerd
 * sends: the rest is left unread and the input treated as what it decodes to. */
static void read_input(const struct shim_flags *f, struct shim_start_input *in)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t r;

	for (;;) {
		if (len == cap) {
			if (cap >= (1u << 20))
				break;
			cap = cap ? cap * 2 : 4096;
			buf = xrealloc(buf, cap);
		}
		r = read(0, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	shim_start_input_parse(buf, len, f->id, f->namespace, in);
}

/* runc Options.shim_cgroup, best effort as before: a cgroup we cannot join does not fail the
 * start (runc-v2 fails it). */
static void join_shim_cgroup(const char *cgroup, pid_t daemon)
{
	_cleanup_err_ struct wren_err *err = NULL;
	_cleanup_free_ char *path = NULL;
	struct rt_cgroup *cg = NULL;

	if (!cgroup)
		return;
	path = xstrdup(cgroup);
	if (rt_cgroup_open(path, &cg, &err) == 0) {
		rt_cgroup_attach(cg, daemon, &err);
		rt_cgroup_free(cg);
	}
}

/* What 2.3+ BootstrapParams carry replaces the flags and environment of the legacy call, which
 * containerd 2.3 still passes too: the params win where both are set. The daemon inherits our
 * environment, so $TTRPC_ADDRESS reaches its event publisher. */
static void apply_bootstrap(const struct shim_start_input *in, struct shim_flags *f)
{
	if (!in->bootstrap)
		return;
	if (in->grpc_address)
		f->address = in->grpc_address;
	if (in->ttrpc_address)
		setenv("TTRPC_ADDRESS", in->ttrpc_address, 1);
	if (in->debug)
		f->debug = true;
}

/* The socket path: runc-v2's derivation (address.c), moved under the 2.3+ socket_dir if given. */
static char *socket_path(const struct shim_flags *f, const char *group, const char *socket_dir)
{
	char *path = shim_socket_path(f->address ? f->address : "", f->namespace, group);
	char *moved;

	if (!socket_dir)
		return path;
	moved = xasprintf("%s/%s", socket_dir, strrchr(path, '/') + 1);
	free(path);
	return moved;
}

/* Legacy: the plain address, which every containerd from 1.6 on reads as protocol version 2 (task
 * v2 service). We do not answer the JSON form there: 1.6 takes JSON for an address, 1.7 rejects
 * version 3, and 1.7 and 2.0-2.2 start a shim with the same flags and environment
 * (MAX_SHIM_VERSION=2 in both), so nothing tells us that version 3 would be understood. 2.3+ says
 * so by sending BootstrapParams, and gets a BootstrapResult with version 3. */
static int reply(const struct shim_start_input *in, const char *address)
{
	_cleanup_free_ uint8_t *out = NULL;
	size_t len;

	if (!in->bootstrap) {
		fputs(address, stdout);
		return 0;
	}
	out = shim_bootstrap_result(address, &len);
	fflush(stdout);
	return write_all(STDOUT_FILENO, out, len) < 0 ? 1 : 0;
}

/* runc-v2 groups the containers of a pod into one shim by annotation. Only the annotations are
 * read: a full spec parse here cost more instructions than the rest of the start action. */
static char *grouping_key(const struct shim_flags *f)
{
	static const char *const keys[] = {"io.containerd.runc.v2.group",
					   "io.kubernetes.cri.sandbox-id"};
	char *group = rt_spec_peek_annotation(".", keys, 2);

	return group ? group : xstrdup(f->id);
}

int shim_action_start(const struct shim_flags *cli)
{
	_cleanup_err_ struct wren_err *err = NULL;
	_cleanup_free_ char *group = NULL, *path = NULL, *address = NULL;
	_cleanup_close_ int lfd = -1;
	struct shim_start_input in;
	struct shim_flags f = *cli;
	bool reused;
	pid_t daemon;
	int rc = 1;

	if (!f.id || !*f.id) {
		fprintf(stderr, "shim id cannot be empty\n");
		return 1;
	}
	read_input(&f, &in);
	apply_bootstrap(&in, &f);
	group = grouping_key(&f);
	path = socket_path(&f, group, in.socket_dir);
	address = xasprintf("unix://%s", path);

	lfd = listen_on(path, &reused, &err);
	if (lfd < 0 && !reused)
		goto fail;
	if (shim_write_address(address, &err) < 0) {
		if (!reused)
			unlink(path);
		goto fail;
	}
	if (!reused) {
		daemon = shim_spawn_daemon(&f, lfd, &err);
		if (daemon < 0) {
			unlink(path);
			goto fail;
		}
		join_shim_cgroup(in.shim_cgroup, daemon);
		shim_adjust_oom(daemon);
	}
	rc = reply(&in, address);
	shim_start_input_clear(&in);
	return rc;
fail:
	fprintf(stderr, "%s\n", err->msg);
	shim_start_input_clear(&in);
	return 1;
}
