/* The child of an exec (exec.c), from its clone to its execve.
 *
 * It shares the daemon's memory (CLONE_VM, on a stack of its own) instead of being a copy-on-write
 * fork of it: no copy of the daemon's page tables, no copy-on-write faults in either process, no
 * address space to tear down at execve. The daemon does not wait for it (no CLONE_VFORK): it goes
 * on serving while the child walks the container's filesystem, which may hang.
 *
 * Sharing memory with a daemon that keeps running sets the child's rules: it allocates nothing,
 * takes no lock, writes nothing the daemon owns (errno included: only rawsys.h syscalls), and reads
 * only its plan, which the daemon builds before the clone in a mapping of the child's own (with its
 * stack) and does not touch again until the child has execve'd or died (rt_exec_child_release). */
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

/* Everything the child will need, copied into its mapping. In the daemon, after rt_proc_prime. */
struct rt_exec_child *rt_exec_child_prepare(const struct rt_exec_child_in *in,
					    struct wren_err **err);
/* Clone the child (cgroup_fd >= 0: CLONE_INTO_CGROUP there): its pid, or -1 with errno. share:
 * false makes it a fork, for a child whose oom_score_adj must differ from ours (rt_exec_start):
 * the kernel keeps oom_score_adj equal in all processes that share an mm, so writing a sharing
 * child's would write the daemon's too. */
pid_t rt_exec_child_clone(struct rt_exec_child *ch, int cgroup_fd, int *pidfd, bool share);
/* The child is past execve or dead (its sync socket closed, or reaped): its mapping is free. */
void rt_exec_child_release(struct rt_exec_child *ch);
/* For tests: false makes the child a copy-on-write fork again (the only kind where rawsys.h has no
 * errno-free syscalls, and under the sanitizers; true cannot change that). Returns the previous
 * setting. */
bool rt_exec_child_set_shared_vm(bool on);

#endif
