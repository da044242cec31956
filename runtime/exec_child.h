/* The child of an exec (exec.c), from its clone to its execve.
 *
 * The daemon works out before the clone everything the child needs that does not depend on the
 * container's filesystem: the environment, the seccomp filter as BPF (compiled once per container),
 * the cgroup files, capability names. The child, a fork of the daemon, only makes syscalls
 * (rawsys.h, proc_raw.h; rlimits through libc, so that a preload can see them): no allocation, no
 * lock, no libc state.
 *
 * It is a fork, not a child sharing the daemon's memory (CLONE_VM), although that was measured to
 * save a third of the daemon's CPU per exec: the kernel couples processes that share an mm. It
 * keeps their oom_score_adj equal (writing an exec's, which CRI sets on every exec, would set the
 * shim's), and when the OOM killer picks one it kills every process sharing the mm: an exec's child
 * picked by its container's memory cgroup before its execve would take the shim with it.
 * docs/performance.md has the numbers. */
#ifndef WREN_EXEC_CHILD_H
#define WREN_EXEC_CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/cgroup.h"
#include "runtime/err.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"

struct rt_exec_child_in {
	const struct rt_process *p;
	const struct rt_cgroup *cg;	       /* NULL: none */
	bool born_in_place;		       /* cloned with CLONE_INTO_CGROUP */
	const struct rt_seccomp_prog *seccomp; /* NULL: none */
	bool seccomp_early;		       /* before the user switch (rt_seccomp_early) */
	int stdio[3];			       /* -1: /dev/null */
	int sync_fd, init_pidfd;
	uint64_t ns_flags; /* the init's namespaces to join (setns on init_pidfd) */
};

struct rt_exec_child;

/* Everything the child will need, in one block. In the daemon, after rt_proc_prime. */
struct rt_exec_child *rt_exec_child_prepare(const struct rt_exec_child_in *in,
					    struct wren_err **err);
/* Fork the child (cgroup_fd >= 0: CLONE_INTO_CGROUP there): its pid, or -1 with errno. */
pid_t rt_exec_child_clone(struct rt_exec_child *ch, int cgroup_fd, int *pidfd);
/* The daemon's copy; the child has its own from the fork. */
void rt_exec_child_free(struct rt_exec_child *ch);

#endif
