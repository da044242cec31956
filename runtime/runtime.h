/* wren's in-process OCI runtime: what the shim asks of it. It knows nothing of ttrpc, protobuf or
 * containerd: inputs are a bundle, a parsed spec and file descriptors; outputs are pids, pidfds,
 * states and errors.
 *
 * Nothing here blocks on a container's child for long: creation is a conversation on a sync socket
 * that the caller's event loop watches (rt_container_sync_fd), so the daemon's one thread keeps
 * serving other containers and RPCs while a child sets up. The exceptions are OCI hooks run in the
 * runtime namespace (prestart, createRuntime, poststart, poststop), which run to completion or to
 * their spec timeout, as runc does.
 *
 * The caller (the daemon) is the reaper: it watches rt_*_pidfd() and calls waitid(P_PIDFD) itself,
 * except while rt_container_create() fails, where the runtime kills and reaps its own child. */
#ifndef WREN_RUNTIME_H
#define WREN_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/err.h"
#include "runtime/spec.h"

/* ---- containerd's rootfs mounts (CreateTaskRequest.rootfs) ---------------------------------- */
struct rt_mount {
	const char *type, *source, *target; /* target may be NULL or "" (mount onto dir itself) */
	const char *const *options;
	size_t n_options;
};
/* Mount each entry onto dir (stacked, in order), parsing options as containerd's mount package
 * does (MS_* words become flags, the rest is fs data; ro bind remounted read-only). On failure,
 * what was mounted is unmounted again. */
int rt_rootfs_mount(const char *dir, const struct rt_mount *m, size_t n, struct wren_err **err);
/* Unmount dir until nothing is mounted there (EINVAL), retrying EBUSY. Missing dir is success. */
int rt_rootfs_unmount(const char *dir, struct wren_err **err);
/* Whether the rootfs mounted at dir may leave the daemon's mount namespace for the container's
 * own (rt_rootfs_detach): the spec's root is dir, the init gets a new mount namespace of its
 * own and no user namespace, no hook runs in the runtime namespace (prestart, createRuntime,
 * poststart and poststop may look at the rootfs by its host path, as runc lets them) and the
 * rootfs propagation is not shared (which would tie the rootfs to the host's mount). */
bool rt_rootfs_detachable(const struct rt_spec *spec, const char *dir);
/* Take what is mounted at dir out of this mount namespace: returns an fd (>= 3, O_CLOEXEC) on a
 * private copy of the whole tree, detached from every namespace, and unmounts dir here. Only the
 * fd holds the filesystems then; the init attaches the tree in its own mount namespace
 * (rt_create_opts.rootfs_tree), and closing the last copy of an unattached tree unmounts it. So
 * the host's mount table does not grow with each running container (every new mount namespace
 * copies that table, and runc leaves one overlay in it per container), and no rootfs mount can
 * outlive the container's processes. -1 with err (e.g. ENOSYS before Linux 5.12): dir is still
 * mounted (with stacked mounts at dir, only an unmount failing after the first would leave fewer). */
int rt_rootfs_detach(const char *dir, struct wren_err **err);

/* ---- containers ----------------------------------------------------------------------------- */
enum rt_log_level { RT_LOG_ERROR, RT_LOG_WARN, RT_LOG_INFO, RT_LOG_DEBUG };
typedef void (*rt_log_fn)(void *ud, enum rt_log_level level, const char *msg);

struct rt_create_opts {
	const char *id;
	const char *bundle;   /* absolute */
	struct rt_spec *spec; /* borrowed; must outlive the container */
	/* the init's fds 0,1,2; -1 = /dev/null. The caller keeps (and closes) its copies */
	int stdio[3];
	bool no_pivot_root;
	bool no_new_keyring;
	bool systemd_cgroup; /* containerd.runc.v1.Options.systemd_cgroup: the systemd driver */
	rt_log_fn log;	     /* the children's own log lines (may be NULL) */
	void *log_ud;
	/* the rootfs as a detached tree (rt_rootfs_detach), which the init attaches at the spec's
	 * root path first thing in its mount namespace; 0: none, the rootfs is there already. The
	 * caller keeps its copy and may close it once rt_container_create has returned. */
	int rootfs_tree;
};

enum rt_sync_state {
	RT_SYNC_PENDING = 0, /* more to come: keep watching the sync fd */
	RT_SYNC_CREATED = 1, /* the init is set up and waits for rt_container_start() */
	RT_SYNC_STARTED = 2, /* execve happened (the CLOEXEC sync socket closed) */
};

struct rt_container;

/* Create the container's cgroup, clone the init into its namespaces and do the parent's share of
 * the set-up (cgroup attach on v1, id maps, createRuntime/prestart hooks when the child asks).
 * Returns 0 while the child goes on setting up; the caller watches rt_container_sync_fd(). */
int rt_container_create(const struct rt_create_opts *o, struct rt_container **out,
			struct wren_err **err);
/* The fd to watch for readability during create and start; -1 once the conversation is over. */
int rt_container_sync_fd(const struct rt_container *c);
/* Handle what the child sent: returns the state reached, or -1 with the child's error (e.g.
 * `exec: "nope": executable file not found in $PATH`). After -1, the init is dead (or exiting):
 * the caller reaps it through the pidfd as usual and then calls rt_container_destroy(). */
int rt_container_on_sync(struct rt_container *c, struct wren_err **err);
/* Tell a created init to go on: seccomp, then execve. Watch the sync fd for RT_SYNC_STARTED.
 * Runs the startContainer hooks in the child and poststart hooks here once started. */
int rt_container_start(struct rt_container *c, struct wren_err **err);

/* With process.terminal, the init makes its terminal in the container's own /dev/pts (as runc's
 * init does: /dev/pts/0 inside, bound onto /dev/console) and hands over the master before it is
 * created: this takes it (O_CLOEXEC, the caller's from now on). -1 if none came. */
int rt_container_take_console(struct rt_container *c);

pid_t rt_container_pid(const struct rt_container *c);
int rt_container_pidfd(const struct rt_container *c); /* owned by the container */
/* The cgroup path as used under each hierarchy (v1) or under the v2 root, e.g. "/default/t1". */
const char *rt_container_cgroup(const struct rt_container *c);

/* Signal the init, or with all every process in the container's cgroup. ESRCH → NOT_FOUND. */
int rt_container_kill(struct rt_container *c, int sig, bool all, struct wren_err **err);
/* Host pids of every process in the container's cgroup. *out is malloc'd. */
int rt_container_pids(struct rt_container *c, pid_t **out, size_t *n, struct wren_err **err);
/* The container's cgroup for Pause, Resume, Update, Stats and the OOM watch
 * (runtime/container_cgroup.c, with runtime/cgroup.h, cgroup_stats.h and oom.h); NULL if it has
 * none. Once rt_container_destroy() ran, its directories are gone (reads say NOT_FOUND). */
struct rt_cgroup;
const struct rt_cgroup *rt_container_cgroup_handle(const struct rt_container *c);
/* The driver choice (container_cgroup.c): systemd when the runtime options ask for it or when the
 * spec's cgroupsPath has systemd's "slice:prefix:name" form (which cgroupfs cannot use, and which
 * is all CRI sends a shim that is not runc: its options reach it as runtimeoptions.v1, without
 * SystemdCgroup); the cgroup path a container gets, "/wren/<id>" or the
 * spec's for cgroupfs, "slice:prefix:name" (default ":wren:<id>") for systemd; and whether the
 * path suits the driver (INVALID_ARGUMENT, before anything is created, if not). */
bool rt_container_cgroup_systemd(const struct rt_spec *spec, bool option);
char *rt_container_cgroup_path(const struct rt_spec *spec, const char *id, bool systemd);
int rt_container_cgroup_check(const char *path, bool systemd, struct wren_err **err);
/* Freeze or thaw every process of the container (bounded wait for the freezer to settle). */
int rt_container_freeze(struct rt_container *c, bool frozen, struct wren_err **err);
/* Apply new resources to the live cgroup. */
int rt_container_update(struct rt_container *c, const struct rt_resources *res,
			struct wren_err **err);
/* After the init exited and was reaped: kill what is left in the cgroup, remove the cgroup, run
 * poststop hooks. Idempotent. */
int rt_container_destroy(struct rt_container *c, struct wren_err **err);
/* Free memory and fds. A child not yet started is killed and reaped first. */
void rt_container_free(struct rt_container *c);

/* ---- execs (a process joining a running container) ------------------------------------------ */
struct rt_exec_opts {
	struct rt_container *container;
	struct rt_process *process; /* borrowed */
	int stdio[3];
	rt_log_fn log;
	void *log_ud;
};
struct rt_exec;
/* Clone a process into the container's namespaces and cgroup, set its user, caps, rlimits,
 * no_new_privs and seccomp, then execve. Watch rt_exec_sync_fd(): RT_SYNC_STARTED on execve, -1
 * with the error otherwise. */
int rt_exec_start(const struct rt_exec_opts *o, struct rt_exec **out, struct wren_err **err);
int rt_exec_sync_fd(const struct rt_exec *e);
int rt_exec_on_sync(struct rt_exec *e, struct wren_err **err);
pid_t rt_exec_pid(const struct rt_exec *e);
int rt_exec_pidfd(const struct rt_exec *e);
void rt_exec_free(struct rt_exec *e);

/* ---- cleanup without a live daemon (the shim's `delete` action) ------------------------------ */
/* Kill every process in the cgroup at path (as from rt_container_cgroup), wait for them to go, and
 * remove the cgroup in every hierarchy. A missing cgroup is success. */
int rt_cgroup_cleanup(const char *path, struct wren_err **err);

#endif
