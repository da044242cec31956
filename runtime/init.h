/* The container init's side of create, between clone3 and execve (runtime/init.c), and the two
 * helpers every container child (init or exec) uses to report over the sync socket. */
#ifndef WREN_INIT_H
#define WREN_INIT_H

#include <stdbool.h>

#include "runtime/err.h"
#include "runtime/runtime.h"
#include "runtime/spec.h"

struct rt_cgroup;

struct rt_init_args {
	const struct rt_spec *spec;
	const char *id, *bundle;
	int stdio[3];
	int sync_fd; /* the child's end */
	bool no_pivot_root, no_new_keyring;
	/* the cgroup the child moves itself into first thing (cgroup_join.c); NULL when the parent
	 * attaches it (the systemd driver, whose scope is made once the init exists) */
	const struct rt_cgroup *cg;
	bool born_in_place; /* cloned with CLONE_INTO_CGROUP (rt_cgroup_clone_fd) */
	int rootfs_tree;    /* rt_create_opts.rootfs_tree, or -1 */
};

/* Runs in the clone3 child: never returns (execve or _exit). */
_Noreturn void rt_init_child(const struct rt_init_args *a);

/* Send err as ERROR{errno, message} and _exit(status). */
_Noreturn void rt_child_fail(int sync_fd, struct wren_err *err, int status);
void rt_child_log(int sync_fd, enum rt_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Whether seccomp must be loaded before the user switch: without no_new_privs, installing a filter
 * needs CAP_SYS_ADMIN, which the final user may not keep (runc's rule). */
bool rt_seccomp_early(const struct rt_spec *spec, const struct rt_process *p);

#endif
