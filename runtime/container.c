/* A container's life on the daemon's side: cgroup, one clone3 of the init into its namespaces, the
 * parent's share of the set-up, the sync conversation (never blocking: the daemon's epoll watches
 * the socket), start, kill, pids, destroy. The child's side is runtime/init.c. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/cgroup_systemd.h"
#include "runtime/hooks.h"
#include "runtime/init.h"
#include "runtime/namespaces.h"
#include "runtime/process.h"
#include "runtime/runtime.h"
#include "runtime/seccomp.h"
#include "runtime/sync.h"
#include "runtime/syscalls.h"
#include "runtime/util.h"

enum phase { PH_SETUP, PH_CREATED, PH_STARTING, PH_STARTED, PH_FAILED };

struct rt_container {
	char *id, *bundle;
	struct rt_spec *spec;
	struct rt_cgroup *cg;
	char *cg_path;
	pid_t pid;
	int pidfd, sync_fd;
	bool systemd_cgroup; /* the scope is created once the init exists (create_cgroup) */
	int console_fd;	     /* the terminal's master from the init, until taken */
	enum phase phase;
	bool destroyed;
	rt_log_fn log;
	void *log_ud;
	/* for execs (exec.c): the namespace types the init does not share with the daemon, found
	 * at the first exec (0 until then), and the daemon's own pid_for_children, kept open to
	 * come back to after each clone */
	uint64_t exec_ns;
	int own_pidns_fd;
	/* the spec's seccomp filter as BPF, compiled at the first exec that needs it */
	struct rt_seccomp_prog exec_seccomp;
};

/* ---- internal accessors for exec.c ---------------------------------------------------------- */
const struct rt_spec *rt_container_spec(const struct rt_container *c);
struct rt_cgroup *rt_container_cg(struct rt_container *c);
uint64_t rt_container_exec_ns(struct rt_container *c);
int *rt_container_own_pidns(struct rt_container *c);
int rt_container_exec_seccomp(struct rt_container *c, const struct rt_seccomp_prog **out,
			      struct wren_err **err);

const struct rt_spec *rt_container_spec(const struct rt_container *c)
{
	return c->spec;
}

struct rt_cgroup *rt_container_cg(struct rt_container *c)
{
	return c->cg;
}

/* The init's namespaces are its own from its birth: the 14 lookups in /proc are made once. A
 * result without the mount namespace is not kept (the init is gone, or going: the caller refuses
 * the exec and a later one looks again). */
uint64_t rt_container_exec_ns(struct rt_container *c)
{
	uint64_t ns;

	if (c->exec_ns & CLONE_NEWNS)
		return c->exec_ns;
	ns = rt_ns_differing(c->pid);
	if (ns & CLONE_NEWNS)
		c->exec_ns = ns;
	return ns;
}

int *rt_container_own_pidns(struct rt_container *c)
{
	return &c->own_pidns_fd;
}

/* *out: NULL when the spec has no filter. */
int rt_container_exec_seccomp(struct rt_container *c, const struct rt_seccomp_prog **out,
			      struct wren_err **err)
{
	*out = NULL;
	if (!c->spec->has_seccomp)
		return 0;
	if (c->exec_seccomp.filter == NULL &&
	    rt_seccomp_compile(&c->spec->seccomp, &c->exec_seccomp, err) < 0)
		return -1;
	*out = &c->exec_seccomp;
	return 0;
}

/* ---- create ---------------------------------------------------------------------------------- */

static int write_id_map(pid_t pid, const char *file, const struct rt_id_map *m, size_t n,
			struct wren_err **err)
{
	char path[64];
	_cleanup_free_ char *buf = xmalloc(n * 40 + 1);
	size_t len = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(buf + len, "%u %u %u\n", m[i].container_id, m[i].host_id,
				       m[i].size);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if (write_file(path, buf, len, false) < 0)
		return wren_err_errno(err, errno, "write %s", file);
	return 0;
}

/* What the parent does before the child may go on: its cgroup on v1, id maps, oom_score_adj. */
static int create_cgroup(struct rt_container *c, struct wren_err **err);

static int parent_setup(struct rt_container *c, struct wren_err **err)
{
	const struct rt_spec *spec = c->spec;
	const struct rt_namespace *user = rt_spec_namespace(spec, RT_NS_USER);

	/* a cgroupfs cgroup existed at the clone: the child moved itself in (cgroup_join.c) */
	if (c->systemd_cgroup && create_cgroup(c, err) < 0)
		return wren_err_wrap(err, "create cgroup %s", c->cg_path);
	if (c->systemd_cgroup && rt_cgroup_dirfd(c->cg) < 0 &&
	    rt_cgroup_attach(c->cg, c->pid, err) < 0)
		return -1;
	if (user && (user->path == NULL || user->path[0] == 0)) {
		if (write_id_map(c->pid, "uid_map", spec->uid_mappings, spec->n_uid_mappings, err) <
			0 ||
		    write_id_map(c->pid, "gid_map", spec->gid_mappings, spec->n_gid_mappings, err) <
			0)
			return -1;
	}
	if (spec->process->has_oom_score_adj &&
	    rt_proc_write_oom_score_adj(c->pid, spec->process->oom_score_adj, err) < 0)
		return -1;
	if (rt_sync_send(c->sync_fd, RT_MSG_CONTINUE, c->pid, NULL) < 0) {
		int e = errno;

		/* the child failed before it waited for us (joining its cgroup comes first): its
		 * error is queued on the socket and says more than the broken pipe */
		if ((e == EPIPE || e == ECONNRESET) && rt_container_on_sync(c, err) < 0)
			return -1;
		return wren_err_errno(err, e, "tell the container init to continue");
	}
	return 0;
}

/* Kill and reap the init (it is ours to reap only while create fails or in free). */
static void kill_and_reap(struct rt_container *c)
{
	siginfo_t si;

	if (c->pidfd < 0)
		return;
	rt_sys_pidfd_send_signal(c->pidfd, SIGKILL);
	while (waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
}

static int clone_init(struct rt_container *c, const struct rt_create_opts *o, int child_end,
		      struct wren_err **err)
{
	const struct rt_namespace *pidns = rt_spec_namespace(c->spec, RT_NS_PID);
	uint64_t flags = rt_ns_clone_flags(c->spec);
	int saved = -1, pidfd = -1, clone_fd = -1;
	struct rt_init_args a = {
	    .spec = c->spec,
	    .id = c->id,
	    .bundle = c->bundle,
	    .stdio = {o->stdio[0], o->stdio[1], o->stdio[2]},
	    .sync_fd = child_end,
	    .no_pivot_root = o->no_pivot_root,
	    .no_new_keyring = o->no_new_keyring,
	    .rootfs_tree = o->rootfs_tree > 0 ? o->rootfs_tree : -1,
	};
	pid_t pid;

	if (c->cg) {
		if (rt_cgroup_prepare_join(c->cg, err) < 0)
			return -1;
		clone_fd = rt_cgroup_clone_fd(c->cg);
		a.cg = c->cg;
		a.born_in_place = clone_fd >= 0;
	}
	/* host facts every child needs, read once per daemon (children inherit them) */
	rt_proc_prime();
	/* joining a pid namespace is only possible at birth: enter it for our children first */
	if (pidns && pidns->path && pidns->path[0]) {
		_cleanup_close_ int fd = open(pidns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return wren_err_errno(err, errno, "open pid namespace %s", pidns->path);
		if (rt_ns_enter_pid_for_children(fd, &saved, err) < 0)
			return wren_err_wrap(err, "join pid namespace %s", pidns->path);
	}
	pid = rt_sys_clone3(flags, clone_fd, &pidfd);
	if (pid == 0)
		rt_init_child(&a);
	rt_ns_restore_pid_for_children(&saved);
	if (pid < 0)
		return wren_err_errno(err, errno, "clone3");
	c->pid = pid;
	c->pidfd = pidfd;
	return 0;
}

/* The devices every container may use whatever its spec says, appended after the spec's rules as
 * runc does (containerd's default spec only says "deny all" and relies on this). */
#define RULE(t, ma, mi, acc)                                                                       \
	{                                                                                          \
		.allow = true, .type = t, .major = ma, .minor = mi, .access = acc                  \
	}
static char acc_m[] = "m", acc_rwm[] = "rwm";
static const struct rt_device_rule default_device_rules[] = {
    RULE('c', -1, -1, acc_m),	 RULE('b', -1, -1, acc_m),    /* mknod of anything */
    RULE('c', 1, 3, acc_rwm),	 RULE('c', 1, 5, acc_rwm),    /* null, zero */
    RULE('c', 1, 7, acc_rwm),	 RULE('c', 1, 8, acc_rwm),    /* full, random */
    RULE('c', 1, 9, acc_rwm),	 RULE('c', 5, 0, acc_rwm),    /* urandom, tty */
    RULE('c', 5, 2, acc_rwm),	 RULE('c', 136, -1, acc_rwm), /* ptmx, pts */
    RULE('c', 10, 200, acc_rwm),			      /* tun/tap */
};
#undef RULE

static int create_cgroup(struct rt_container *c, struct wren_err **err)
{
	const struct rt_resources *spec_res = &c->spec->resources;
	struct rt_resources res = *spec_res;
	size_t nd = sizeof(default_device_rules) / sizeof(default_device_rules[0]);
	_cleanup_free_ struct rt_device_rule *rules = NULL;

	if (spec_res->n_devices > 0) {
		rules = xmalloc((spec_res->n_devices + nd) * sizeof(*rules));
		memcpy(rules, spec_res->devices, spec_res->n_devices * sizeof(*rules));
		memcpy(rules + spec_res->n_devices, default_device_rules, nd * sizeof(*rules));
		res.devices = rules;
		res.n_devices = spec_res->n_devices + nd;
	}
	/* systemd puts the init into its scope itself: it must exist first (no CLONE_INTO_CGROUP) */
	if (c->systemd_cgroup)
		return rt_systemd_cgroup_create(c->cg_path, &res, c->pid, &c->cg, err);
	return rt_cgroup_create(c->cg_path, &res, &c->cg, err);
}

int rt_container_create(const struct rt_create_opts *o, struct rt_container **out,
			struct wren_err **err)
{
	struct rt_spec *spec = o->spec;
	struct rt_container *c;
	int sv[2];

	if (spec->process == NULL || spec->process->n_args == 0)
		return wren_err_code(
		    err, WREN_E_INVALID_ARGUMENT,
		    "config.json: process.args: must be a non-empty array of strings");
	c = xzalloc(sizeof(*c));
	c->id = xstrdup(o->id);
	c->bundle = xstrdup(o->bundle);
	c->spec = spec;
	c->pidfd = c->sync_fd = c->console_fd = c->own_pidns_fd = -1;
	c->log = o->log;
	c->log_ud = o->log_ud;
	c->systemd_cgroup = rt_container_cgroup_systemd(spec, o->systemd_cgroup);
	c->cg_path = rt_container_cgroup_path(spec, o->id, c->systemd_cgroup);
	if (rt_container_cgroup_check(c->cg_path, c->systemd_cgroup, err) < 0 ||
	    (!c->systemd_cgroup && create_cgroup(c, err) < 0)) {
		wren_err_wrap(err, "create cgroup %s", c->cg_path);
		c->destroyed = true;
		rt_container_free(c);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		wren_err_errno(err, errno, "socketpair");
		goto fail;
	}
	c->sync_fd = sv[0];
	if (clone_init(c, o, sv[1], err) < 0) {
		close(sv[1]);
		goto fail;
	}
	close(sv[1]);
	if (fcntl(c->sync_fd, F_SETFL, O_NONBLOCK) < 0) {
		wren_err_errno(err, errno, "set the sync socket non-blocking");
		goto fail;
	}
	if (parent_setup(c, err) < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	kill_and_reap(c);
	rt_container_destroy(c, NULL);
	c->phase = PH_FAILED;
	rt_container_free(c);
	return -1;
}

int rt_container_sync_fd(const struct rt_container *c)
{
	return c->sync_fd;
}

/* ---- the conversation ------------------------------------------------------------------------ */

static void close_sync(struct rt_container *c)
{
	if (c->sync_fd >= 0)
		close(c->sync_fd);
	c->sync_fd = -1;
}

/* The child failed or misbehaved: it must not go on. The caller reaps it. */
static int child_failed(struct rt_container *c)
{
	if (c->pidfd >= 0)
		rt_sys_pidfd_send_signal(c->pidfd, SIGKILL);
	close_sync(c);
	c->phase = PH_FAILED;
	return -1;
}

static int run_parent_hooks(struct rt_container *c, const char *status, enum rt_hook_kind k,
			    const char *name, struct wren_err **err)
{
	_cleanup_free_ char *state = NULL;

	if (c->spec->n_hooks[k] == 0)
		return 0;
	state = rt_state_json(c->spec, c->id, status, c->pid, c->bundle);
	return rt_hooks_run(c->spec->hooks[k], c->spec->n_hooks[k], name, state, err);
}

static void log_line(struct rt_container *c, enum rt_log_level lvl, const char *msg)
{
	if (c->log)
		c->log(c->log_ud, lvl, msg);
}

int rt_container_on_sync(struct rt_container *c, struct wren_err **err)
{
	struct rt_sync_msg m;

	while (c->sync_fd >= 0) {
		int r = rt_sync_recv(c->sync_fd, &m);

		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return RT_SYNC_PENDING;
		if (r < 0) {
			wren_err_errno(err, errno, "read from the container init");
			return child_failed(c);
		}
		if (r == 0) {
			if (c->phase == PH_STARTING) {
				/* the CLOEXEC socket closed: execve happened. The fd is closed
				 * after the hooks, so that its number is not reused while the
				 * caller may still have it in its epoll set. */
				c->phase = PH_STARTED;
				r = run_parent_hooks(c, "running", RT_HOOK_POSTSTART, "poststart",
						     err);
				close_sync(c);
				if (r < 0) {
					rt_sys_pidfd_send_signal(c->pidfd, SIGKILL);
					return -1;
				}
				return RT_SYNC_STARTED;
			}
			close_sync(c);
			wren_err_code(err, WREN_E_UNKNOWN, "container init exited before it was %s",
				      c->phase == PH_SETUP ? "ready" : "started");
			return child_failed(c);
		}
		switch (m.type) {
		case RT_MSG_LOG:
			log_line(c, (enum rt_log_level)m.arg, m.text);
			break;
		case RT_MSG_ERROR:
			wren_err_code(err, WREN_E_UNKNOWN, "%s",
				      m.len ? m.text : "container init failed");
			if (err && *err)
				(*err)->errnum = m.arg;
			return child_failed(c);
		case RT_MSG_CONSOLE:
			if (c->phase != PH_SETUP || c->console_fd >= 0 ||
			    !c->spec->process->terminal) {
				close(m.fd);
				goto protocol;
			}
			c->console_fd = m.fd;
			break;
		case RT_MSG_READY:
			if (c->phase != PH_SETUP)
				goto protocol;
			if (c->spec->process->terminal && c->console_fd < 0) {
				wren_err_code(err, WREN_E_UNKNOWN,
					      "container init: ready without its terminal");
				return child_failed(c);
			}
			c->phase = PH_CREATED;
			return RT_SYNC_CREATED;
		case RT_MSG_HOOKS:
			if (c->phase != PH_SETUP)
				goto protocol;
			if (run_parent_hooks(c, "creating", RT_HOOK_PRESTART, "prestart", err) <
				0 ||
			    run_parent_hooks(c, "creating", RT_HOOK_CREATE_RUNTIME, "createRuntime",
					     err) < 0)
				return child_failed(c);
			if (rt_sync_send(c->sync_fd, RT_MSG_CONTINUE, c->pid, NULL) < 0) {
				wren_err_errno(err, errno, "tell the container init to continue");
				return child_failed(c);
			}
			break;
		default:
			goto protocol;
		}
	}
	return c->phase == PH_STARTED ? RT_SYNC_STARTED : RT_SYNC_PENDING;
protocol:
	wren_err_code(err, WREN_E_UNKNOWN, "container init: unexpected sync message %u", m.type);
	return child_failed(c);
}

int rt_container_start(struct rt_container *c, struct wren_err **err)
{
	if (c->phase != PH_CREATED)
		return wren_err_code(err, WREN_E_FAILED_PRECONDITION, "container not created");
	if (rt_sync_send(c->sync_fd, RT_MSG_GO, 0, NULL) < 0) {
		wren_err_errno(err, errno, "start the container init");
		return child_failed(c);
	}
	c->phase = PH_STARTING;
	return 0;
}

int rt_container_take_console(struct rt_container *c)
{
	return steal_fd(&c->console_fd);
}

pid_t rt_container_pid(const struct rt_container *c)
{
	return c->pid;
}

int rt_container_pidfd(const struct rt_container *c)
{
	return c->pidfd;
}

const char *rt_container_cgroup(const struct rt_container *c)
{
	return c->cg_path;
}

/* ---- kill, pids, destroy, free ------------------------------------------------------------- */

int rt_container_kill(struct rt_container *c, int sig, bool all, struct wren_err **err)
{
	if (all && c->cg && !c->destroyed)
		return rt_cgroup_kill(c->cg, sig, err);
	if (c->pidfd < 0 || rt_sys_pidfd_send_signal(c->pidfd, sig) < 0) {
		if (c->pidfd < 0 || errno == ESRCH)
			return wren_err_code(err, WREN_E_NOT_FOUND,
					     "process already finished: not found");
		return wren_err_errno(err, errno, "kill the container init");
	}
	return 0;
}

int rt_container_pids(struct rt_container *c, pid_t **out, size_t *n, struct wren_err **err)
{
	if (c->cg == NULL || c->destroyed) {
		*out = NULL;
		*n = 0;
		return 0;
	}
	return rt_cgroup_pids(c->cg, out, n, err);
}

int rt_container_destroy(struct rt_container *c, struct wren_err **err)
{
	struct wren_err *hook_err = NULL;

	if (c->destroyed)
		return 0;
	if (c->cg && rt_cgroup_destroy(c->cg, err) < 0)
		return wren_err_wrap(err, "remove cgroup %s", c->cg_path);
	c->destroyed = true;
	/* poststop failures are reported and do not stop the delete (OCI runtime spec) */
	if (c->phase != PH_SETUP &&
	    run_parent_hooks(c, "stopped", RT_HOOK_POSTSTOP, "poststop", &hook_err) < 0) {
		log_line(c, RT_LOG_WARN, hook_err->msg);
		wren_err_free(hook_err);
	}
	return 0;
}

void rt_container_free(struct rt_container *c)
{
	if (c == NULL)
		return;
	if (c->phase != PH_STARTED)
		kill_and_reap(c);
	close_sync(c);
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->console_fd >= 0)
		close(c->console_fd);
	if (c->own_pidns_fd >= 0)
		close(c->own_pidns_fd);
	if (c->cg)
		rt_cgroup_free(c->cg);
	free(c->exec_seccomp.filter);
	free(c->cg_path);
	free(c->id);
	free(c->bundle);
	free(c);
}
