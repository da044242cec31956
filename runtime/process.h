/* The process-level steps of a container child (init or exec), between clone and execve: its fds,
 * signals, hostname, sysctls, rlimits, user and groups, capabilities, no_new_privs, environment,
 * working directory and the lookup of args[0]. Run in the child only (they change the calling
 * process), except rt_proc_write_oom_score_adj, which the parent does for the child. */
#ifndef WREN_PROCESS_H
#define WREN_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/err.h"
#include "runtime/spec.h"

/* First thing after clone: default signal dispositions and an empty mask (the daemon blocks and
 * ignores some), stdio[i] (-1: /dev/null) onto fd i, the sync socket moved to fd 3, and every other
 * inherited fd closed but *keep (if not NULL and >= 0), which moves to fd 4. Returns the new sync
 * fd (3) or -1 (nothing can be reported then). */
int rt_proc_setup_fds(const int stdio[3], int sync_fd, int *keep);
/* Close every fd above the sync fd again (hooks and libraries may have opened some). */
void rt_proc_close_extra_fds(int sync_fd);
int rt_proc_write_oom_score_adj(pid_t pid, int value, struct wren_err **err);
int rt_proc_set_hostname(const struct rt_spec *spec, struct wren_err **err);
int rt_proc_sysctls(const struct rt_spec *spec, struct wren_err **err);
int rt_proc_rlimits(const struct rt_process *p, struct wren_err **err);
/* setgroups, setresgid, bounding set (while CAP_SETPCAP is there), setresuid keeping caps, then
 * the capability sets (all empty when the process has no capabilities object, as runc does). */
int rt_proc_set_user(const struct rt_process *p, struct wren_err **err);
int rt_proc_no_new_privs(const struct rt_process *p, struct wren_err **err);
/* The process's AppArmor profile and SELinux label, taken at its execve (rt_raw_lsm_exec_labels):
 * after the rootfs is final, /proc being the container's. */
int rt_proc_lsm_labels(const struct rt_process *p, struct wren_err **err);
/* chdir(cwd) and check that the result is inside the root (runc CVE-2024-21626). create: mkdir it
 * first if missing (the init, as runc does). */
int rt_proc_chdir(const struct rt_process *p, bool create, struct wren_err **err);
/* clearenv + the spec's env, HOME from /etc/passwd (or "/") when the spec has none. */
void rt_proc_set_env(const struct rt_process *p);
/* args[0] through the spec's PATH, as Go's exec.LookPath (runc's wording on errors). *out is
 * malloc'd. Call after rt_proc_set_user: access is checked for the container's user. */
int rt_proc_lookup(const struct rt_process *p, char **out, struct wren_err **err);

/* The runtime's own binary, noted at the child's birth (while /proc is the host's). A container
 * must never execve it: its /proc/self/exe would then hand the container a way to the host's
 * shim binary (runc CVE-2019-5736). */
struct rt_self_exe {
	dev_t dev;
	ino_t ino;
	bool known;
};
void rt_proc_self_exe(struct rt_self_exe *out);
/* In the daemon before a clone: look up what every child needs from the host (the kernel's last
 * capability, our own binary, which signal dispositions are not the default) once, so children
 * inherit it instead of asking the kernel each. A process must not change a disposition after
 * its first call (the daemon sets its own at start). */
void rt_proc_prime(void);
/* After rt_proc_prime: the signals a child must set back to the default, bit sig - 1 (all of
 * them when the daemon's own are not known). */
uint64_t rt_proc_signals_to_reset(void);
int rt_proc_refuse_self(const char *path, const struct rt_self_exe *self, struct wren_err **err);

#endif
