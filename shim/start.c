/* The `start` action (shim-protocol.md §2.3): bind the socket, write ./address, spawn the daemon
 * with the socket as fd 3, print the address. containerd reads our stdout and stderr together
 * until EOF and takes all of it as the address, so nothing but the address may be printed on
 * success, and the daemon must not inherit either pipe. */
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

#include "shim/any.h"
#include "runtime/cgroup.h"
#include "runtime/spec.h"
#include "runtime/util.h"
#include "shim/shim.h"

#include "containerd/runc/options/oci.pb-c.h"

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

/* containerd writes the runtime options Any to our stdin. Only runc's Options mean anything to
 * us here (shim_cgroup); any other type is accepted and ignored, unlike runc-v2, which fails. */
static void apply_options(pid_t daemon)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	Google__Protobuf__Any *any;
	ssize_t r;

	for (;;) {
		if (len == cap) {
			if (cap >= (1u << 20))
				return;
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
	if (len == 0)
		return;
	any = google__protobuf__any__unpack(NULL, len, (uint8_t *)buf);
	if (!any)
		return;
	if (shim_any_is(any, "containerd.runc.v1.Options")) {
		Containerd__Runc__V1__Options *o =
		    containerd__runc__v1__options__unpack(NULL, any->value.len, any->value.data);
		if (o && o->shim_cgroup && *o->shim_cgroup) {
			_cleanup_err_ struct wren_err *err = NULL;
			_cleanup_free_ char *path = xstrdup(o->shim_cgroup);
			struct rt_cgroup *cg = NULL;

			if (rt_cgroup_open(path, &cg, &err) == 0) {
				rt_cgroup_attach(cg, daemon, &err);
				rt_cgroup_free(cg);
			}
		}
		if (o)
			containerd__runc__v1__options__free_unpacked(o, NULL);
	}
	google__protobuf__any__free_unpacked(any, NULL);
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

int shim_action_start(const struct shim_flags *f)
{
	_cleanup_err_ struct wren_err *err = NULL;
	_cleanup_free_ char *group = NULL, *path = NULL, *address = NULL;
	_cleanup_close_ int lfd = -1;
	bool reused;
	pid_t daemon;

	if (!f->id || !*f->id) {
		fprintf(stderr, "shim id cannot be empty\n");
		return 1;
	}
	group = grouping_key(f);
	path = shim_socket_path(f->address ? f->address : "", f->namespace, group);
	address = xasprintf("unix://%s", path);

	lfd = listen_on(path, &reused, &err);
	if (lfd < 0 && !reused)
		goto fail;
	if (shim_write_address(address, &err) < 0) {
		if (!reused)
			unlink(path);
		goto fail;
	}
	if (reused) {
		fputs(address, stdout);
		return 0;
	}
	daemon = shim_spawn_daemon(f, lfd, &err);
	if (daemon < 0) {
		unlink(path);
		goto fail;
	}
	apply_options(daemon);
	shim_adjust_oom(daemon);
	fputs(address, stdout);
	return 0;
fail:
	fprintf(stderr, "%s\n", err->msg);
	return 1;
}
