/* The child of an exec (exec.c), from its clone to its execve.
 *
 * It shares the daemon's memory instead of being a copy-on-write fork of it: no copy of the
 * daemon's page tables, no copy-on-write faults in either process, no address space to tear down
 * at execve (a third of an exec's cost in the shim, docs/performance.md).
 *
 * It is a vfork child (CLONE_VM|CLONE_VFORK), which is what keeps the daemon safe while they share
 * an mm: the kernel leaves a vfork child's oom_score_adj its own (no MMF_MULTIPROCESS; the child
 * writes the exec's value itself) and never picks a task in vfork as an OOM victim, so an OOM in
 * the exec's container cannot kill every process sharing the mm, the shim among them. A plain
 * CLONE_VM child had neither guarantee and was withdrawn for that.
 *
 * vfork suspends the cloning thread until the child has execve'd or died, and the child walks the
 * container's filesystem first (cwd, PATH, /etc/passwd, the binary), which a hung NFS or FUSE
 * volume can block indefinitely. So the daemon's thread does not clone it: a helper thread does,
 * made for that one clone (raw clone3, CLONE_THREAD, on a stack in the child's mapping). It enters
 * the container's pid namespace for its children, clones, waits in the kernel and exits; the
 * daemon's thread waits only until the kernel has made the child (its copy of the daemon's fds
 * taken), microseconds, not until the execve. It runs only rawsys.h syscalls, takes no lock and
 * allocates nothing, so a fork by the daemon's thread meanwhile inherits no state of it; it exists
 * only while an exec is being started (a sleeping shim still has one thread).
 *
 * Sharing memory with a daemon that keeps running sets the child's rules, and the helper's: they
 * allocate nothing, take no lock, write nothing the daemon owns (errno included: only rawsys.h
 * syscalls), and read only the plan, which the daemon builds before the clone in a mapping of its
 * own (with both stacks) and does not touch again until the child has execve'd or died and the
 * helper has exited (rt_exec_child_release). The kernel writes the child's pid and pidfd into the
 * plan before the child first runs; the daemon reads them from there (rt_exec_child_pid). */
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
/* Whether children share the daemon's memory here: false elsewhere than x86-64 (no errno-free
 * syscalls), under the sanitizers, and when a test said so. Then rt_exec_child_fork is the way. */
bool rt_exec_child_shares(void);
/* Start the helper thread, which enters the pid namespace of init_pidfd for its children and
 * clones the child (cgroup_fd >= 0: CLONE_INTO_CGROUP there), and wait until the kernel has made
 * the child (microseconds: not until its execve). Its pid (and pidfd in *pidfd); 0 when the clone
 * failed, its error then waiting on the sync socket as the child's own would; -errno when the
 * thread could not be made. The caller may close its copy of in->sync_fd (and any other) then. */
pid_t rt_exec_child_spawn(struct rt_exec_child *ch, int cgroup_fd, int *pidfd);
/* The child as a copy-on-write fork, cloned by the caller in whatever pid namespace it has entered
 * for its children: its pid, or -1 with errno. */
pid_t rt_exec_child_fork(struct rt_exec_child *ch, int cgroup_fd, int *pidfd);
/* After rt_exec_child_spawn: the child's pid (and pidfd), 0 while the kernel has not made it,
 * -1 when the clone failed. wait: instead of 0, yield until there is an outcome. */
pid_t rt_exec_child_pid(struct rt_exec_child *ch, bool wait, int *pidfd);
/* The child is past execve or dead (its sync socket closed, or reaped): its mapping is free once
 * the helper has exited too, which it does as soon as the kernel lets it out of the vfork wait. */
void rt_exec_child_release(struct rt_exec_child *ch);
/* For tests: false makes the child a copy-on-write fork (what it always is where
 * rt_exec_child_shares cannot be true). Returns the previous setting. */
bool rt_exec_child_set_shared_vm(bool on);

#endif
