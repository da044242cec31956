/* The container init, from clone3 to execve: the ordered set-up inside its new namespaces (runc's
 * and crun's order). It is a copy of the single-threaded daemon: it talks only through the sync
 * socket (fd 3 after rt_proc_setup_fds), never through stdio, and leaves with execve or _exit. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/capability.h>

#include "runtime/hooks.h"
#include "runtime/cgroup.h"
#include "runtime/init.h"
#include "runtime/namespaces.h"
#include "runtime/process.h"
#include "runtime/rootfs.h"
#include "runtime/seccomp.h"
#include "runtime/sync.h"
#include "runtime/syscalls.h"
#include "runtime/util.h"

#define KEYCTL_JOIN_SESSION_KEYRING 1

extern char **environ;

_Noreturn void rt_child_fail(int sync_fd, struct wren_err *err, int status)
{
	rt_sync_send(sync_fd, RT_MSG_ERROR, err ? err->errnum : 0,
		     err ? err->msg : "container init failed");
	_exit(status);
}

void rt_child_log(int sync_fd, enum rt_log_level level, const char *fmt, ...)
{
	char buf[RT_SYNC_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rt_sync_send(sync_fd, RT_MSG_LOG, (int32_t)level, buf);
}

bool rt_seccomp_early(const struct rt_spec *spec, const struct rt_process *p)
{
	if (!spec->has_seccomp || p->no_new_privileges)
		return false;
	return !(p->has_caps && (p->caps.effective & (1ULL << CAP_SYS_ADMIN)));
}

static int run_hooks(const struct rt_spec *spec, enum rt_hook_kind kind, const char *name,
		     const char *id, const char *bundle, pid_t pid, struct wren_err **err)
{
	_cleanup_free_ char *state = NULL;

	if (spec->n_hooks[kind] == 0)
		return 0;
	state = rt_state_json(spec, id, "creating", pid, bundle);
	return rt_hooks_run(spec->hooks[kind], spec->n_hooks[kind], name, state, err);
}

static int send_console(const struct rt_process *p, int sync, struct wren_err **err)
{
	_cleanup_close_ int master = -1;

	if (rt_rootfs_console(p, &master, err) < 0)
		return -1;
	if (rt_sync_send_fd(sync, RT_MSG_CONSOLE, 0, master) < 0)
		return wren_err_errno(err, errno, "hand the terminal to the shim");
	return 0;
}

static int setup(const struct rt_init_args *a, int sync, int tree, pid_t host_pid,
		 bool *deferred_cwd, struct wren_err **err)
{
	const struct rt_spec *spec = a->spec;
	const struct rt_process *p = spec->process;
	int r;

	/* a session of our own: the terminal made after pivot_root becomes its controlling one */
	if (setsid() < 0)
		return wren_err_errno(err, errno, "setsid");
	if (rt_ns_join_paths(spec, err) < 0)
		return -1;
	/* in a user namespace our host ids are unmapped until we become its root (the parent has
	 * written the maps by now): files we create would fail with EOVERFLOW */
	if (rt_spec_namespace(spec, RT_NS_USER) != NULL) {
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			return wren_err_errno(err, errno, "become root of the user namespace");
	}
	if (rt_ns_unshare_late(spec, err) < 0)
		return -1;
	if (rt_proc_set_hostname(spec, err) < 0)
		return -1;
	if (!a->no_new_keyring) {
		_cleanup_free_ char *name = xasprintf("_ses.%s", a->id);
		if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) < 0 && errno != ENOSYS)
			return wren_err_errno(err, errno, "join a session keyring");
	}
	if (rt_rootfs_prepare(spec, tree, err) < 0)
		return -1;
	rt_child_log(sync, RT_LOG_DEBUG, "init: %zu mounts and devices set up under %s",
		     spec->n_mounts, spec->root_path);
	/* prestart and createRuntime run in the runtime namespace: the parent's job */
	if (spec->n_hooks[RT_HOOK_PRESTART] || spec->n_hooks[RT_HOOK_CREATE_RUNTIME]) {
		if (rt_sync_send(sync, RT_MSG_HOOKS, 0, NULL) < 0 ||
		    rt_sync_expect(sync, RT_MSG_CONTINUE, NULL) < 0)
			return wren_err_errno(err, errno, "wait for the runtime hooks");
	}
	if (run_hooks(spec, RT_HOOK_CREATE_CONTAINER, "createContainer", a->id, a->bundle, host_pid,
		      err) < 0)
		return -1;
	if (rt_rootfs_pivot(spec, a->no_pivot_root, err) < 0)
		return -1;
	rt_child_log(sync, RT_LOG_DEBUG, "init: %s done",
		     a->no_pivot_root ? "MS_MOVE and chroot" : "pivot_root");
	/* after the mounts (the spec's devpts), before readonly and masked paths (runc's order) */
	if (p->terminal && send_console(p, sync, err) < 0)
		return -1;
	/* sysctls before the readonly paths: /proc/sys is usually one of them */
	if (rt_proc_sysctls(spec, err) < 0)
		return -1;
	if (rt_rootfs_finalize(spec, err) < 0)
		return -1;
	/* runc's order: the LSM labels once /proc is the container's, before seccomp and the user */
	if (rt_proc_lsm_labels(p, err) < 0)
		return -1;
	umask(p->has_umask ? p->umask : 022);
	if (rt_proc_rlimits(p, err) < 0)
		return -1;
	/* cwd as root first (created if missing, as runc does); if root may not enter it the
	 * user may, so try again after the switch */
	r = rt_proc_chdir(p, true, err);
	if (r < 0 && (*err)->errnum == EACCES) {
		wren_err_free(*err);
		*err = NULL;
		*deferred_cwd = true;
	} else if (r < 0) {
		return -1;
	}
	if (rt_seccomp_early(spec, p) && rt_seccomp_load(&spec->seccomp, err) < 0)
		return -1;
	if (rt_proc_set_user(p, err) < 0)
		return -1;
	if (*deferred_cwd && rt_proc_chdir(p, false, err) < 0)
		return -1;
	if (rt_proc_no_new_privs(p, err) < 0)
		return -1;
	return 0;
}

_Noreturn void rt_init_child(const struct rt_init_args *a)
{
	const struct rt_spec *spec = a->spec;
	const struct rt_process *p = spec->process;
	struct wren_err *err = NULL;
	_cleanup_free_ char *path = NULL;
	bool deferred_cwd = false;
	struct rt_self_exe self;
	struct rt_seccomp_built *late_filter = NULL;
	int32_t host_pid = 0;
	int sync, tree = a->rootfs_tree;

	/* not dumpable from birth: nothing else in the container's pid namespace may ptrace us or
	 * open our /proc files while we hold host resources */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* into the container's cgroup while the daemon's fds are still open (cgroup_join.c) */
	if (a->cg && rt_cgroup_join_self(a->cg, a->born_in_place, &err) < 0)
		rt_child_fail(a->sync_fd, err, 1);
	rt_proc_self_exe(&self);
	sync = rt_proc_setup_fds(a->stdio, a->sync_fd, &tree);
	if (sync < 0) {
		wren_err_errno(&err, errno, "set up stdio");
		rt_child_fail(a->sync_fd, err, 1);
	}
	/* the parent writes id maps and oom_score_adj (and, for systemd, makes the scope), then
	 * says go on */
	if (rt_sync_expect(sync, RT_MSG_CONTINUE, &host_pid) < 0)
		_exit(1);
	if (setup(a, sync, tree, host_pid, &deferred_cwd, &err) < 0)
		rt_child_fail(sync, err, 1);
	rt_proc_close_extra_fds(sync);
	rt_proc_set_env(p);
	/* a missing binary must fail create, not start */
	if (rt_proc_lookup(p, &path, &err) < 0 || rt_proc_refuse_self(path, &self, &err) < 0)
		rt_child_fail(sync, err, 1);
	/* the filter loaded after start is built now, so that a bad one fails the create */
	if (spec->has_seccomp && !rt_seccomp_early(spec, p) &&
	    (late_filter = rt_seccomp_build(&spec->seccomp, &err)) == NULL)
		rt_child_fail(sync, err, 1);
	rt_child_log(sync, RT_LOG_DEBUG, "init: ready to exec %s", path);
	if (rt_sync_send(sync, RT_MSG_READY, 0, NULL) < 0)
		_exit(1);
	if (rt_sync_expect(sync, RT_MSG_GO, NULL) < 0)
		_exit(1);
	if (spec->n_hooks[RT_HOOK_START_CONTAINER]) {
		_cleanup_free_ char *state =
		    rt_state_json(spec, a->id, "created", host_pid, a->bundle);
		if (rt_hooks_run(spec->hooks[RT_HOOK_START_CONTAINER],
				 spec->n_hooks[RT_HOOK_START_CONTAINER], "startContainer", state,
				 &err) < 0)
			rt_child_fail(sync, err, 1);
	}
	if (late_filter && rt_seccomp_load_built(late_filter, &err) < 0)
		rt_child_fail(sync, err, 1);
	execve(path, p->args, environ);
	wren_err_errno(&err, errno, "exec %s", path);
	rt_child_fail(sync, err, 127);
}
