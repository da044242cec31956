/* The process table: containers (one per task id) and their processes (the init, execs), with
 * the state machine of shim-protocol.md §4.4 and the bookkeeping of exits (§4.5). */
#ifndef WREN_SHIM_TASK_H
#define WREN_SHIM_TASK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "runtime/runtime.h"
#include "shim/io.h"
#include "shim/shim.h"
#include "shim/state.h"
#include "ttrpc/ttrpc.h"

enum proc_status {
	PROC_CREATING, /* the child is setting up; Create's reply is pending */
	PROC_CREATED,
	PROC_STARTING, /* GO sent; Start's reply waits for the execve */
	PROC_RUNNING,
	PROC_STOPPED,
	PROC_PAUSING, /* init only: Pause is freezing the cgroup (shim/cgroup_ops.c) */
	PROC_PAUSED,  /* init only: frozen; its execs report PAUSED too */
};

struct proc_waiter {
	struct proc_waiter *next;
	struct ttrpc_call *call;
	struct shim_proc *p;
};

struct shim_proc {
	struct shim_proc *next; /* in the container's exec list */
	struct shim_container *c;
	char *id; /* exec id, or the container id for the init */
	bool is_init;
	enum proc_status status;
	pid_t pid;
	char *stdin_path, *stdout_path, *stderr_path;
	bool terminal;
	struct shim_io io;
	bool reaped; /* waited for: the pid is no longer ours to signal */
	bool exited; /* the exit is recorded: Wait answered, /tasks/exit queued */
	uint32_t exit_status;
	struct timespec exited_at;
	struct proc_waiter *waiters;
	struct ttrpc_call *pending; /* Create or Start waiting for the child */
	struct ttrpc_source sync;   /* watched while the child talks */
	bool sync_watched;
	/* reaped, its exit waiting for the client to read the output (task.c, "Output first") */
	struct ttrpc_timer drain_timer;
	uint64_t drain_start_ns, drain_moved_ns; /* when the wait began; when unread last changed */
	size_t drain_unread;
	unsigned drain_tick_ms;
	/* exec only */
	struct rt_process *spec;
	struct rt_exec *rt_exec;
};

struct shim_container {
	struct shim_container *next;
	struct shim *shim;
	char *id, *bundle;
	struct rt_spec *spec;
	struct rt_container *rt;
	struct shim_proc init;
	struct shim_proc *execs;
	bool rootfs_mounted;   /* in the daemon's mount namespace, under the bundle */
	int rootfs_tree;       /* or detached (rt_rootfs_detach) until the init has its copy; -1 */
	uint8_t *create_event; /* packed TaskCreate, published once the init is ready */
	size_t create_event_len;
	/* runc options of the Create, kept while it waits for its binary:// logger */
	bool no_pivot_root, no_new_keyring, systemd_cgroup;
	/* The init was reaped while execs still ran: its exit waits for theirs (containerd 1.7's
	 * order), bounded by this timer. */
	bool init_exit_deferred;
	int init_wstatus;
	struct ttrpc_timer init_exit_timer;
	/* OOM kills in the cgroup, watched from the init's Start to its exit (shim/cgroup_ops.c) */
	struct rt_oom_watch *oom;
	struct ttrpc_source oom_src;
	/* a criu dump in progress (shim/checkpoint.c) */
	struct shim_checkpoint *checkpoint;
	/* what the bundle's state file holds (shim/state.h) */
	struct shim_state_cache state;
};

struct shim_container *shim_task_find(struct shim *s, const char *id);
/* The init for "" or the exec by id; NULL if none. */
struct shim_proc *shim_task_proc(struct shim_container *c, const char *exec_id);

/* Record an exit: status, time, persisted state, pending Waits answered, /tasks/exit queued.
 * The exit is held back while the client still has output of the process to read, and an
 * init's while execs of its container still run. */
void shim_proc_exited(struct shim *s, struct shim_proc *p, int wstatus);
/* An exec (starting or running) whose exit is not recorded yet. */
bool shim_task_has_live_execs(const struct shim_container *c);
/* Persist the init's state in the bundle (for the delete action); a write only if it changed. */
void shim_task_persist(struct shim_container *c);
/* Queue a Wait until the exit; released at once if its connection closes first. */
void shim_proc_add_waiter(struct shim_proc *p, struct ttrpc_call *call);
/* Watch or stop watching a process's sync fd. */
void shim_proc_watch_sync(struct shim *s, struct shim_proc *p, int fd);
void shim_proc_unwatch_sync(struct shim *s, struct shim_proc *p);
/* Kill and reap a process that never ran (or is being deleted); records 137. */
void shim_proc_reap_now(struct shim_proc *p);
/* Remove an exec record: its id can be used again. */
void shim_task_remove_exec(struct shim *s, struct shim_proc *p);
/* Tear down everything a container holds and unlink it from the shim. */
void shim_task_remove(struct shim *s, struct shim_container *c);
/* The same for the Delete of its init: the state file then tells the delete action whether
 * anything is left for it to clean. */
void shim_task_delete(struct shim *s, struct shim_container *c);

/* daemon.c: after the container whose bundle held the daemon (cwd, log FIFO) is gone. */
void shim_daemon_leave_bundle(struct shim *s, const char *bundle);

#endif
