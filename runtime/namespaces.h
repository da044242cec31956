/* Linux namespaces of a container: which to create at clone, which to join by path, and the
 * daemon's trick for pid namespaces (setns(..., CLONE_NEWPID) changes only the namespace of its
 * future children, so it enters, clones, and goes back). */
#ifndef WREN_NAMESPACES_H
#define WREN_NAMESPACES_H

#include <stdint.h>
#include <sys/types.h>

#include "runtime/err.h"
#include "runtime/spec.h"

/* CLONE_NEW* of one type, and its name under /proc/PID/ns/. */
uint64_t rt_ns_flag(enum rt_ns_type t);
const char *rt_ns_name(enum rt_ns_type t);
/* CLONE_NEW* flags for clone3: every namespace the spec asks to create (no path) but cgroup (see
 * rt_ns_unshare_late). A mount namespace is always created unless the spec names one to join. */
uint64_t rt_ns_clone_flags(const struct rt_spec *spec);
/* In the child, once in its cgroup: create the namespaces clone3 could not (cgroup). */
int rt_ns_unshare_late(const struct rt_spec *spec, struct wren_err **err);
/* In the child: join every namespace the spec names by path, except pid (joined by the parent
 * before clone). User first, mount last. */
int rt_ns_join_paths(const struct rt_spec *spec, struct wren_err **err);
/* In the parent: make future children start in the pid namespace of fd (a /proc/PID/ns/pid file
 * or a pidfd). *saved gets an fd of the daemon's own pid_for_children to restore. */
int rt_ns_enter_pid_for_children(int fd, int *saved, struct wren_err **err);
/* Restore (and close) what rt_ns_enter_pid_for_children saved. Aborts on failure: a daemon whose
 * next children land in a container's pid namespace is unsafe to keep running. */
void rt_ns_restore_pid_for_children(int *saved);
/* The same for a caller that clones into one container many times (execs): *own is the daemon's
 * pid_for_children, opened on the first call and kept by the caller (-1 before), so a clone costs
 * two setns and no open. Come back with rt_ns_leave_pid_for_children(*own). */
int rt_ns_visit_pid_for_children(int fd, int *own, struct wren_err **err);
void rt_ns_leave_pid_for_children(int own);
/* CLONE_NEW* flags (pid excluded) of the namespaces where pid differs from this process. */
uint64_t rt_ns_differing(pid_t pid);

#endif
