/* A process joining a running container (ctr tasks exec). The daemon enters the init's pid
 * namespace for its children only (setns(pidfd, CLONE_NEWPID)), clones once, and goes back: the
 * child is born inside the container's pid namespace as a direct child of the daemon. The child
 * joins the other namespaces through the init's pidfd in one setns call, then sets itself up as
 * the init did (cwd, rlimits, user, caps, no_new_privs, env, seccomp last) and execs. */
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
#include "runtime/init.h"
#include "runtime/namespaces.h"
#include "runtime/process.h"
#include "runtime/runtime.h"
#include "runtime/seccomp.h"
#include "runtime/sync.h"
#include "runtime/syscalls.h"
#include "runtime/util.h"

extern char **environ;

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
	rt_log_fn log;
	void *log_ud;
};

struct exec_child_args {
	const struct rt_spec *spec; /* the container's */
	const struct rt_process *p;
	const struct rt_cgroup *cg; /* NULL: none */
	bool born_in_place;	    /* cloned with CLONE_INTO_CGROUP (rt_cgroup_clone_fd) */
	const struct rt_seccomp_prog *seccomp; /* NULL: none */
	int stdio[3];
	int sync_fd, init_pidfd;
	uint64_t ns_flags;
};

static int exec_setup(const struct exec_child_args *a, int init_pidfd, struct wren_err **err)
{
	const struct rt_process *p = a->p;

	/* its own session: out of the daemon's process group and its signals */
	if (setsid() < 0)
		return wren_err_errno(err, errno, "setsid");
	if (p->terminal && isatty(0) && ioctl(0, TIOCSCTTY, 0) < 0)
		return wren_err_errno(err, errno, "set the controlling terminal");
	/* one call: the kernel joins the user namespace first and checks the rest against it */
	if (a->ns_flags && setns(init_pidfd, (int)a->ns_flags) < 0)
		return wren_err_errno(err, errno, "join the container's namespaces");
	close(init_pidfd);
	umask(p->has_umask ? p->umask : 022);
	if (rt_proc_chdir(p, false, err) < 0)
		return -1;
	if (rt_proc_rlimits(p, err) < 0)
		return -1;
	if (a->seccomp && rt_seccomp_early(a->spec, p) && rt_seccomp_load_prog(a->seccomp, err) < 0)
		return -1;
	if (rt_proc_set_user(p, err) < 0)
		return -1;
	if (rt_proc_no_new_privs(p, err) < 0)
		return -1;
	return 0;
}

/* A fork of the daemon, not a child sharing its memory (CLONE_VM), although that was measured to
 * save a third of the daemon's CPU per exec: the kernel couples processes that share an mm. It
 * keeps their oom_score_adj equal (writing an exec's, which CRI sets on every exec, would set the
 * shim's), and when the OOM killer picks one it kills every process sharing the mm: an exec's
 * child picked by its container's memory cgroup before its execve would take the shim with it.
 * docs/performance.md has the numbers. The seccomp filter comes compiled, once per container. */
static _Noreturn void exec_child(const struct exec_child_args *a)
{
	struct wren_err *err = NULL;
	char *path = NULL;
	struct rt_self_exe self;
	int pidfd = a->init_pidfd, sync;

	/* born in the container's pid namespace: undumpable before anything else */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* into the container's cgroup while the daemon's fds are still open (cgroup_join.c) */
	if (a->cg && rt_cgroup_join_self(a->cg, a->born_in_place, &err) < 0)
		rt_child_fail(a->sync_fd, err, 1);
	rt_proc_self_exe(&self);
	sync = rt_proc_setup_fds(a->stdio, a->sync_fd, &pidfd);
	if (sync < 0) {
		wren_err_errno(&err, errno, "set up stdio");
		rt_child_fail(a->sync_fd, err, 1);
	}
	if (rt_sync_expect(sync, RT_MSG_CONTINUE, NULL) < 0)
		_exit(1);
	if (exec_setup(a, pidfd, &err) < 0)
		rt_child_fail(sync, err, 1);
	rt_proc_close_extra_fds(sync);
	rt_proc_set_env(a->p);
	if (rt_proc_lookup(a->p, &path, &err) < 0 || rt_proc_refuse_self(path, &self, &err) < 0)
		rt_child_fail(sync, err, 1);
	if (a->seccomp && !rt_seccomp_early(a->spec, a->p) &&
	    rt_seccomp_load_prog(a->seccomp, &err) < 0)
		rt_child_fail(sync, err, 1);
	execve(path, a->p->args, environ);
	wren_err_errno(&err, errno, "exec %s", path);
	rt_child_fail(sync, err, 127);
}

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
	struct exec_child_args a;
	struct rt_exec *e;
	uint64_t ns_flags;
	int clone_errno;
	pid_t pid;

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
	a = (struct exec_child_args){
	    .spec = spec,
	    .p = o->process,
	    .cg = cg,
	    .born_in_place = clone_fd >= 0,
	    .seccomp = seccomp,
	    .stdio = {o->stdio[0], o->stdio[1], o->stdio[2]},
	    .sync_fd = sv[1],
	    .init_pidfd = init_pidfd,
	    .ns_flags = ns_flags,
	};
	if (rt_ns_visit_pid_for_children(init_pidfd, own_pidns, err) < 0) {
		close(sv[0]);
		close(sv[1]);
		return wren_err_wrap(err, "exec: the container's init is gone");
	}
	pid = rt_sys_clone3(0, clone_fd, &pidfd);
	if (pid == 0)
		exec_child(&a);
	clone_errno = errno;
	rt_ns_leave_pid_for_children(*own_pidns);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return wren_err_errno(err, clone_errno, "clone3");
	}
	e = xzalloc(sizeof(*e));
	e->pid = pid;
	e->pidfd = pidfd;
	e->sync_fd = sv[0];
	e->log = o->log;
	e->log_ud = o->log_ud;
	if (fcntl(e->sync_fd, F_SETFL, O_NONBLOCK) < 0) {
		wren_err_errno(err, errno, "set the sync socket non-blocking");
		goto fail;
	}
	if (o->process->has_oom_score_adj &&
	    rt_proc_write_oom_score_adj(pid, o->process->oom_score_adj, err) < 0)
		goto fail;
	if (rt_sync_send(e->sync_fd, RT_MSG_CONTINUE, pid, NULL) < 0) {
		int errnum = errno;

		/* the child failed before it waited for us (joining its cgroup comes first): its
		 * error is queued on the socket and says more than the broken pipe */
		if ((errnum == EPIPE || errnum == ECONNRESET) && rt_exec_on_sync(e, err) < 0)
			goto fail;
		wren_err_errno(err, errnum, "tell the exec process to continue");
		goto fail;
	}
	*out = e;
	return 0;
fail:
	rt_exec_free(e);
	return -1;
}

int rt_exec_sync_fd(const struct rt_exec *e)
{
	return e->sync_fd;
}

static int exec_failed(struct rt_exec *e)
{
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
		/* never got to execve: it must not linger in the container */
		exec_kill_and_reap(e);
		close(e->sync_fd);
	}
	if (e->pidfd >= 0)
		close(e->pidfd);
	free(e);
}
