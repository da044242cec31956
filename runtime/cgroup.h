/* A container's cgroup, v1 (hybrid hosts like this one) or v2, through the cgroupfs directly.
 * The long-lived daemon must not initialise libcgroup (~800 kB resident for its life, see
 * architecture.md §6), so creation, limits, attach, kill, pids, stats and removal are plain file
 * operations here, as crun, runc and youki do. */
#ifndef WREN_CGROUP_H
#define WREN_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/err.h"
#include "runtime/spec.h"

enum rt_cgroup_mode { RT_CGROUP_V1, RT_CGROUP_V2 };

struct rt_cgroup;

/* Which mode this host runs (pure v2 when /sys/fs/cgroup is cgroup2, else v1/hybrid). */
enum rt_cgroup_mode rt_cgroup_host_mode(void);
/* The cgroup path for a spec: linux.cgroupsPath if set (absolute, or relative to the root), else
 * "/wren/<id>". */
char *rt_cgroup_path_for(const struct rt_spec *spec, const char *id);
/* mkdir the cgroup (every v1 hierarchy wren uses, or the v2 dir with controllers enabled in the
 * parents) and write the spec's resources. On failure nothing is left. */
int rt_cgroup_create(const char *path, const struct rt_resources *res, struct rt_cgroup **out,
		     struct wren_err **err);
/* Open an existing cgroup by path (for the delete action and reloads). */
int rt_cgroup_open(const char *path, struct rt_cgroup **out, struct wren_err **err);
const char *rt_cgroup_path(const struct rt_cgroup *cg);
/* v2: an O_DIRECTORY fd for clone3's CLONE_INTO_CGROUP; -1 on v1. */
int rt_cgroup_dirfd(const struct rt_cgroup *cg);
/* Move pid into the cgroup (every hierarchy on v1). */
int rt_cgroup_attach(const struct rt_cgroup *cg, pid_t pid, struct wren_err **err);
/* Children that move themselves in (cgroup_join.c: on v1 this skips the kernel's global lock,
 * whose first writer waits for an RCU grace period, ~15 ms here). In the daemon, before a clone:
 * rt_cgroup_prepare_join opens what the child needs (once; kept), and rt_cgroup_clone_fd is the
 * fd for clone3's CLONE_INTO_CGROUP (v2's directory, or a hybrid host's cgroup2 mount; -1 if
 * none). In the single-threaded child, first thing: rt_cgroup_join_self (born_in_place: the
 * clone used rt_cgroup_clone_fd; on v2 that is all, on v1 the cgroup2 mount's part). */
int rt_cgroup_prepare_join(struct rt_cgroup *cg, struct wren_err **err);
int rt_cgroup_clone_fd(const struct rt_cgroup *cg);
int rt_cgroup_join_self(const struct rt_cgroup *cg, bool born_in_place, struct wren_err **err);
/* The same moves as steps, for a child that may not allocate (exec_child.c): write "0" to fd, and
 * when that fails or fd < 0, to the file at path. Fills out[] (when not NULL) in
 * rt_cgroup_join_self's order, the paths made by join(ud, dir, file); returns how many there are. */
struct rt_cgroup_join_step {
	int fd;
	const char *path;
};
size_t rt_cgroup_join_steps(const struct rt_cgroup *cg, bool born_in_place,
			    struct rt_cgroup_join_step *out,
			    const char *(*join)(void *ud, const char *dir, const char *file),
			    void *ud);
/* Apply resources to the live cgroup (Update). */
int rt_cgroup_update(const struct rt_cgroup *cg, const struct rt_resources *res,
		     struct wren_err **err);
/* Host pids in the cgroup. */
int rt_cgroup_pids(const struct rt_cgroup *cg, pid_t **out, size_t *n, struct wren_err **err);
/* Signal every process: cgroup.kill for SIGKILL on v2 where present, else freeze, signal each
 * pid, thaw. */
int rt_cgroup_kill(const struct rt_cgroup *cg, int sig, struct wren_err **err);
/* Freeze/thaw (Pause/Resume). */
int rt_cgroup_freeze(const struct rt_cgroup *cg, bool frozen, struct wren_err **err);
/* Kill what is left, wait for the cgroup to empty (bounded), rmdir it everywhere. Idempotent. */
int rt_cgroup_destroy(struct rt_cgroup *cg, struct wren_err **err);
void rt_cgroup_free(struct rt_cgroup *cg);

#endif
