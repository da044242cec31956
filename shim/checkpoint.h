/* Checkpoint (containerd.task.v2.Task/Checkpoint): the container's process tree is dumped by criu,
 * run as a child of the daemon. The reply is deferred until criu exits (the daemon reaps it and
 * hands its status here), bounded by a timeout that kills criu: the loop never waits for it. */
#ifndef WREN_SHIM_CHECKPOINT_H
#define WREN_SHIM_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/err.h"
#include "runtime/spec.h"
#include "shim/shim.h"
#include "ttrpc/ttrpc.h"

struct shim_container;

/* containerd.runc.v1.CheckpointOptions, decoded by service.c. */
struct shim_checkpoint_opts {
	const char *image_path; /* where the images go (created if missing) */
	const char *work_path;	/* criu's work directory; NULL or "": <bundle>/criu-work, removed */
	bool exit;		/* criu kills the tree after the dump (else --leave-running) */
	bool open_tcp, external_unix_sockets, terminal, file_locks;
	char **empty_namespaces;
	size_t n_empty_namespaces;
	const char *cgroups_mode; /* soft|full|strict|ignore; NULL or "": criu's default */
	uint64_t timeout_ms;	  /* 0: SHIM_CHECKPOINT_TIMEOUT_MS */
};

#define SHIM_CHECKPOINT_TIMEOUT_MS (5 * 60 * 1000)

/* What criu is told about the container. */
struct shim_checkpoint_target {
	pid_t pid;		   /* the init */
	const char *root;	   /* the rootfs as the host sees it */
	const char *freeze_cgroup; /* the cgroup directory criu freezes, or NULL */
	const char *mountinfo;	   /* the init's /proc/PID/mountinfo, for the external mounts */
	/* criu's --network-lock method, NULL for its default (iptables) */
	const char *network_lock;
	const struct rt_spec *spec;
	/* the init's open files (its stdio) as /proc/PID/fdinfo and stat see them */
	struct shim_checkpoint_file {
		int mnt_id;
		unsigned long long ino;
	} * files;
	size_t n_files;
};

/* Start criu for c's init; call is answered when criu exits or times out. -1 with err when it
 * cannot start (the call is then still the caller's to answer). */
int shim_checkpoint_start(struct shim_container *c, const struct shim_checkpoint_opts *o,
			  struct ttrpc_call *call, struct wren_err **err);
/* The daemon reaped pid: true if it was a criu of ours (its Checkpoint is answered now). */
bool shim_checkpoint_reaped(struct shim *s, pid_t pid, int wstatus);
/* c goes away: its criu (if any) is killed, its Checkpoint answered. */
void shim_checkpoint_abort(struct shim_container *c);

/* Pieces, public for the unit tests. */
/* name ("criu") in the colon-separated path list; malloc'd path, or NULL if none is executable. */
char *shim_checkpoint_find(const char *name, const char *path_env);
/* criu's command line for a dump (argv[0] = criu), NULL-terminated; free with
 * shim_checkpoint_argv_free. INVALID_ARGUMENT for options criu cannot do. */
int shim_checkpoint_argv(const char *criu, const struct shim_checkpoint_target *t,
			 const struct shim_checkpoint_opts *o, const char *work, char ***out,
			 struct wren_err **err);
void shim_checkpoint_argv_free(char **argv);
/* The lines of a criu log that say why it failed ("vdso: …; Could not initialize …"), malloc'd;
 * NULL if the log has no error line. */
char *shim_checkpoint_log_reason(const char *log);

#endif
