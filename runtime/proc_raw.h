/* Steps of a container child that need no libc state: the user and capability switch, the lookup
 * of args[0], the home directory from /etc/passwd. Through rawsys.h syscalls only, with no
 * allocation, no lock and no errno, so that both kinds of child run the same code: the init (a
 * fork of the daemon, through process.c) and an exec's child, which shares the daemon's memory
 * (exec_child.c). Each returns 0 or a negative errno and, on failure, says why in m, in the words
 * runc uses. */
#ifndef WREN_PROC_RAW_H
#define WREN_PROC_RAW_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "runtime/spec.h"
#include "runtime/sync.h"

/* A message built without printf (no locale, no locks). */
struct rt_msg {
	size_t n;
	char b[RT_SYNC_TEXT_MAX + 1];
};
void rt_msg_s(struct rt_msg *m, const char *s);
void rt_msg_i(struct rt_msg *m, long v);
/* strerror(e)'s text; go: Go's spelling (lower-case first letter). */
void rt_msg_errno(struct rt_msg *m, int e, bool go);
/* m->b NUL-terminated */
const char *rt_msg_str(struct rt_msg *m);

/* setgroups, setresgid, the bounding set down to caps->bounding (while CAP_SETPCAP is there),
 * setresuid keeping the capabilities, then the effective, permitted and inheritable sets in one
 * capset and the ambient set rebuilt from empty. Capabilities above last_cap are not touched.
 * Messages name capabilities by rt_caps_name (after rt_caps_prime). */
long rt_raw_set_user(uid_t uid, gid_t gid, const gid_t *gids, size_t n_gids,
		     const struct rt_caps *caps, int last_cap, struct rt_msg *m);

/* name through path_env (NULL: none) as Go's exec.LookPath, then checked executable for the
 * current user (as runc does: a noexec mount, a file for another user); the path found in out. */
long rt_raw_lookup(const char *name, const char *path_env, char out[PATH_MAX], struct rt_msg *m);

/* uid's home directory in /etc/passwd, read in pieces into buf (which then holds it), or NULL. A
 * line that does not fit in buf with its newline (longer than size - 2) is skipped. */
const char *rt_raw_passwd_home(uid_t uid, char *buf, size_t size);
/* The same from a passwd file open at fd, read from its offset to its end or to uid's line. */
const char *rt_raw_passwd_home_fd(int fd, uid_t uid, char *buf, size_t size);

/* The LSM labels the process takes at its execve (process.apparmorProfile, .selinuxLabel; NULL
 * or "": none), written to the calling thread's exec attribute in /proc as the process now sees
 * it (the container's), refused unless that file is procfs's. The kernel refuses a profile it does
 * not know and any label where its LSM is not running: that fails the process, as it does with
 * runc, instead of running it unconfined. */
long rt_raw_lsm_exec_labels(const char *apparmor_profile, const char *selinux_label,
			    struct rt_msg *m);

/* 0, or -errno of stat (rt_raw_lookup's executable test) */
long rt_raw_stat(const char *path, struct stat *st);

#endif
