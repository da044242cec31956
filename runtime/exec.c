/* A process joining a running container (ctr tasks exec). A helper thread of the daemon enters
 * the init's pid namespace for its children only (setns(pidfd, CLONE_NEWPID)) and clones once: the
 * child is born inside the container's pid namespace as a child of the daemon's process. The child
 * joins the other namespaces through the init's pidfd in one setns call, then sets itself up as
 * the init did (cwd, rlimits, user, caps, no_new_privs, env, seccomp last) and execs: it shares
 * the daemon's memory until then as a vfork child, see exec_child.h. Where it cannot, it is a
 * fork, cloned from the daemon's thread in the init's pid namespace, which then goes back. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/exec_child.h"
#include "runtime/init.h"
#include "runtime/namespaces.h"
#include "runtime/process.h"
#include "runtime/runtime.h"
#include "runtime/seccomp.h"
#include "runtime/sync.h"
#include "runtime/syscalls.h"
#include "runtime/util.h"

/* from container.c */
const struct rt_spec *rt_container_spec(const struct rt_container *c);
struct rt_cgroup *rt_container_cg(struct rt_container *c);
uint64_t rt_container_exec_ns(struct rt_container *c);
int *rt_container_own_pidns(struct rt_container *c);
int rt_container_exec_seccomp(struct rt_container *c, const struct rt_seccomp_prog **out,
			      struct wren_err **err);

struct rt_exec {
	pid_t pid;
	int pidfd, sync_fd;
	bool started;
	struct rt_exec_child *child; /* until it has execve'd or died */
	rt_log_fn log;
	void *log_ud;
};

static void exec_kill_and_reap(struct rt_exec *e)
{
	siginfo_t si;

	if (e->pidfd < 0)
		return;
	rt_sys_pidfd_send_signal(e->pidfd, SIGKILL);
	while (waitid(P_PIDFD, (id_t)e->pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
}

int rt_exec_start(const struct rt_exec_opts *o, struct rt_exec **out, struct wren_err **err)
{
	struct rt_container *c = o->container;
	struct rt_cgroup *cg = rt_container_cg(c);
	int init_pidfd = rt_container_pidfd(c), *own_pidns = rt_container_own_pidns(c);
	int sv[2], pidfd = -1, clone_fd = -1;
	const struct rt_spec *spec = rt_container_spec(c);
	const struct rt_seccomp_prog *seccomp;
	struct rt_exec_child *child;
	struct rt_exec *e;
	uint64_t ns_flags;
	pid_t pid = 0;

	if (o->process == NULL || o->process->n_args == 0)
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
				     "process.args: must be a non-empty array of strings");
	if (init_pidfd < 0)
		return wren_err_code(err, WREN_E_FAILED_PRECONDITION, "container not created");
	if (cg) {
		if (rt_cgroup_prepare_join(cg, err) < 0)
			return wren_err_wrap(err, "exec");
		clone_fd = rt_cgroup_clone_fd(cg);
	}
	if (rt_container_exec_seccomp(c, &seccomp, err) < 0)
		return wren_err_wrap(err, "exec");
	/* the child gets what it needs from the daemon's memory: read these host facts here, once
	 * per daemon, not in every child */
	rt_proc_prime();
	ns_flags = rt_container_exec_ns(c);
	/* the container always has its own mount namespace: not seeing it means the init is gone,
	 * and an exec must never fall back to the daemon's namespaces */
	const struct rt_namespace *mnt = rt_spec_namespace(spec, RT_NS_MOUNT);
	if (!(ns_flags & CLONE_NEWNS) && (mnt == NULL || mnt->path == NULL || !mnt->path[0]))
		return wren_err_code(err, WREN_E_FAILED_PRECONDITION,
				     "exec: the container's namespaces are gone");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return wren_err_errno(err, errno, "socketpair");
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
		wren_err_errno(err, errno, "set the sync socket non-blocking");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	child = rt_exec_child_prepare(
	    &(struct rt_exec_child_in){
		.p = o->process,
		.cg = cg,
		.born_in_place = clone_fd >= 0,
		.seccomp = seccomp,
		.seccomp_early = rt_seccomp_early(spec, o->process),
		.stdio = {o->stdio[0], o->stdio[1], o->stdio[2]},
		.sync_fd = sv[1],
		.init_pidfd = init_pidfd,
		.ns_flags = ns_flags,
	    },
	    err);
	if (child == NULL) {
		close(sv[0]);
		close(sv[1]);
		return wren_err_wrap(err, "exec");
	}
	/* a helper thread clones it (exec_child.h); back here once the child has its copy of our
	 * fds, so that ours go now, as after a fork. Without clone3 (valgrind) it is a fork. */
	pid = rt_exec_child_shares() ? rt_exec_child_spawn(child, clone_fd, &pidfd) : -ENOSYS;
	if (pid == -ENOSYS) {
		int clone_errno;

		if (rt_ns_visit_pid_for_children(init_pidfd, own_pidns, err) < 0) {
			close(sv[0]);
			close(sv[1]);
			rt_exec_child_release(child);
			return wren_err_wrap(err, "exec: the container's init is gone");
		}
		pid = rt_exec_child_fork(child, clone_fd, &pidfd);
		clone_errno = errno;
		rt_ns_leave_pid_for_children(*own_pidns);
		close(sv[1]);
		if (pid < 0) {
			close(sv[0]);
			rt_exec_child_release(child);
			return wren_err_errno(err, clone_errno, "clone3");
		}
	} else {
		close(sv[1]);
		if (pid < 0) {
			close(sv[0]);
			rt_exec_child_release(child);
			return wren_err_errno(err, -pid, "exec: start the thread that clones");
		}
		if (pid == 0) { /* the helper says why on the socket, as a child would */
			struct rt_exec failed = {.pidfd = -1, .sync_fd = sv[0]};

			if (rt_exec_on_sync(&failed, err) >= 0)
				wren_err_code(err, WREN_E_UNKNOWN, "exec: clone3 failed");
			if (failed.sync_fd >= 0)
				close(failed.sync_fd);
			rt_exec_child_release(child);
			return -1;
		}
	}
	e = xzalloc(sizeof(*e));
	e->pid = pid;
	e->pidfd = pidfd;
	e->sync_fd = sv[0];
	e->child = child;
	e->log = o->log;
	e->log_ud = o->log_ud;
	*out = e;
	return 0;
}

int rt_exec_sync_fd(const struct rt_exec *e)
{
	return e->sync_fd;
}

static int exec_failed(struct rt_exec *e)
{
	if (e->pidfd >= 0)
		rt_sys_pidfd_send_signal(e->pidfd, SIGKILL);
	close(e->sync_fd);
	e->sync_fd = -1;
	return -1;
}

int rt_exec_on_sync(struct rt_exec *e, struct wren_err **err)
{
	struct rt_sync_msg m;

	while (e->sync_fd >= 0) {
		int r = rt_sync_recv(e->sync_fd, &m);

		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return RT_SYNC_PENDING;
		if (r < 0) {
			wren_err_errno(err, errno, "read from the exec process");
			return exec_failed(e);
		}
		if (r == 0) {
			/* its end closed: it execve'd (or died). Its mapping goes in rt_exec_free: the
			 * helper thread may still be on its way out of it. */
			close(e->sync_fd);
			e->sync_fd = -1;
			e->started = true;
			return RT_SYNC_STARTED;
		}
		if (m.type == RT_MSG_LOG) {
			if (e->log)
				e->log(e->log_ud, (enum rt_log_level)m.arg, m.text);
			continue;
		}
		if (m.type == RT_MSG_ERROR) {
			wren_err_code(err, WREN_E_UNKNOWN, "%s", m.len ? m.text : "exec failed");
			if (err && *err)
				(*err)->errnum = m.arg;
		} else {
			if (m.fd >= 0)
				close(m.fd);
			wren_err_code(err, WREN_E_UNKNOWN, "exec: unexpected sync message %u",
				      m.type);
		}
		return exec_failed(e);
	}
	return e->started ? RT_SYNC_STARTED : RT_SYNC_PENDING;
}

pid_t rt_exec_pid(const struct rt_exec *e)
{
	return e->pid;
}

int rt_exec_pidfd(const struct rt_exec *e)
{
	return e->pidfd;
}

void rt_exec_free(struct rt_exec *e)
{
	if (e == NULL)
		return;
	if (e->sync_fd >= 0) {
		/* never got to execve: it must not linger in the container, and its mapping is
		 * free only once it is dead */
		exec_kill_and_reap(e);
		close(e->sync_fd);
	}
	rt_exec_child_release(e->child);
	if (e->pidfd >= 0)
		close(e->pidfd);
	free(e);
}
