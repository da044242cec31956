/* Private to runtime/cgroup*.c: the rt_cgroup object, the cgroupfs file helpers cgroup.c offers
 * both backends, and the two backends cgroup.c dispatches to (cgroup_v1.c, cgroup_v2.c). */
#ifndef WREN_CGROUP_FS_H
#define WREN_CGROUP_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/cgroup.h"

/* Where a pure v2 host mounts its one hierarchy. */
#define RT_CGROUP2_ROOT "/sys/fs/cgroup"
/* How long removal waits for the cgroup to empty, and freezing for the freezer to settle. */
#define RT_CGROUP_WAIT_MS 5000

/* v1 mode: the controllers "name" of a hybrid host's cgroup2 mount among the hierarchies */
#define UNIFIED "@unified"

struct rt_cgroup {
	enum rt_cgroup_mode mode;
	char *path; /* normalised: "/wren/<id>" */
	/* v1: the cgroup's directory in each hierarchy, and that hierarchy's controllers
	 * ("cpu,cpuacct", "name=systemd") */
	char **dirs, **ctrls;
	size_t n_dirs;
	/* v1: each dirs[i]'s cgroup.procs, opened at the first attach and kept: every exec
	 * attaches its process to all the hierarchies, and the path walks cost more than the
	 * writes. -1 until then. */
	int *procs_fds;
	/* v1: what a child needs to move itself in (cgroup_join.c): each dirs[i]'s `tasks`, and
	 * for the hybrid host's cgroup2 mount an O_DIRECTORY fd for CLONE_INTO_CGROUP. Opened
	 * before the first clone and kept; NULL/-1 until then. */
	int *join_fds;
	/* v2 */
	char *dir;
	int dirfd;
	/* the systemd driver's scope (cgroup_systemd.c): stopped after the cgroup is removed */
	char *systemd_unit;
};

/* ---- cgroupfs files (cgroup.c) ---- */
/* A cgroup directory to open files in. With fd >= 0 (rt_cgfs_dir_open) a file is opened with
 * openat(fd, file), which walks one component instead of the whole /sys/fs/cgroup/<ctrl>/<path>;
 * with fd -1 by path. path names the files in errors either way. */
struct rt_cgfs_dir {
	const char *path;
	int fd;
};
#define RT_CGFS_DIR(p) ((struct rt_cgfs_dir){.path = (p), .fd = -1})
/* Open d->path (set by the caller) as an O_PATH directory; on failure d->fd stays -1 and the
 * files are opened by path, so a caller may ignore the result. -1 with errno. */
int rt_cgfs_dir_open(struct rt_cgfs_dir *d);
void rt_cgfs_dir_close(struct rt_cgfs_dir *d);
#define _cleanup_cgfs_dir_ __attribute__((cleanup(rt_cgfs_dir_close)))
/* open(2) of d's file; -1 with errno. */
int rt_cgfs_open_at(const struct rt_cgfs_dir *d, const char *file, int flags);
/* Write val to d's file; the error names both: `cgroup: memory.max = "64": invalid argument`. */
int rt_cgfs_write_at(const struct rt_cgfs_dir *d, const char *file, const char *val,
		     struct wren_err **err);
/* Read d's file (small control files only), trailing newline stripped. -1 with errno, no err. */
int rt_cgfs_read_at(const struct rt_cgfs_dir *d, const char *file, char **out);
bool rt_cgfs_exists_at(const struct rt_cgfs_dir *d, const char *file);
/* The same, by path: dir/file. */
int rt_cgfs_write(const char *dir, const char *file, const char *val, struct wren_err **err);
int rt_cgfs_read(const char *dir, const char *file, char **out);
bool rt_cgfs_exists(const char *dir, const char *file);
/* Read all of a cgroupfs, procfs or regular file (not a pipe) from fd, at most max bytes: a read
 * that comes back short with room to spare is taken as the end, which holds for files whose
 * records are under 64 bytes or that are one record (every cgroup control file, cgroup.procs,
 * /proc/self/cgroup; not mountinfo). NUL-terminated; -1 with errno. */
int rt_cgfs_read_fd(int fd, size_t max, char **out, size_t *len);
/* Every pid in dir/cgroup.procs and in the cgroups below it. */
int rt_cgfs_pids(const char *dir, pid_t **out, size_t *n, struct wren_err **err);
/* Signal each pid of a list; ESRCH (already gone) is fine. */
int rt_cgfs_signal_pids(const pid_t *pids, size_t n, int sig, struct wren_err **err);
/* Poll until dir holds no process (recursively), up to RT_CGROUP_WAIT_MS. */
int rt_cgfs_wait_empty(const char *dir, struct wren_err **err);
/* rmdir dir and the cgroups below it, deepest first; a missing dir is fine; EBUSY is retried
 * until RT_CGROUP_WAIT_MS. The directory is listed only when its rmdir fails. */
int rt_cgfs_rmdir_tree(const char *dir, struct wren_err **err);
/* mkdir each missing component of path below root, recording the ones made (for undo), calling
 * level(dir, made, is_leaf, arg) on every directory on the way (existing ones included, made
 * false), from the top down. */
int rt_cgfs_mkdir_levels(const char *root, const char *path, char ***made, size_t *n_made,
			 int (*level)(const char *dir, bool made, bool is_leaf, void *arg,
				      struct wren_err **err),
			 void *arg, struct wren_err **err);
/* rmdir the directories recorded by rt_cgfs_mkdir_levels, deepest first, and free the list. */
void rt_cgfs_undo_mkdirs(char **made, size_t n_made);
void rt_cgfs_sleep_ms(long ms);
int64_t rt_cgfs_now_ms(void);

/* ---- backends ---- */
int rt_cg1_create(struct rt_cgroup *cg, const struct rt_resources *res, struct wren_err **err);
int rt_cg1_open(struct rt_cgroup *cg, struct wren_err **err);
int rt_cg1_attach(const struct rt_cgroup *cg, pid_t pid, struct wren_err **err);
int rt_cg1_update(const struct rt_cgroup *cg, const struct rt_resources *res,
		  struct wren_err **err);
int rt_cg1_pids(const struct rt_cgroup *cg, pid_t **out, size_t *n, struct wren_err **err);
int rt_cg1_kill(const struct rt_cgroup *cg, int sig, struct wren_err **err);
int rt_cg1_freeze(const struct rt_cgroup *cg, bool frozen, struct wren_err **err);
int rt_cg1_destroy(struct rt_cgroup *cg, struct wren_err **err);
/* The spec's device rules on a v1 devices cgroup dir (cgroup_v1_devices.c). Rules that would
 * leave the cgroup as it is are not written, unless creating (where they always are, as runc
 * writes them: nothing runs in the cgroup yet to see the moment everything is denied). */
int rt_cg1_set_devices(const struct rt_cgfs_dir *d, const struct rt_resources *r, bool creating,
		       struct wren_err **err);

int rt_cg2_create(struct rt_cgroup *cg, const struct rt_resources *res, struct wren_err **err);
int rt_cg2_open(struct rt_cgroup *cg, struct wren_err **err);
int rt_cg2_attach(const struct rt_cgroup *cg, pid_t pid, struct wren_err **err);
int rt_cg2_update(const struct rt_cgroup *cg, const struct rt_resources *res,
		  struct wren_err **err);
int rt_cg2_pids(const struct rt_cgroup *cg, pid_t **out, size_t *n, struct wren_err **err);
int rt_cg2_kill(const struct rt_cgroup *cg, int sig, struct wren_err **err);
int rt_cg2_freeze(const struct rt_cgroup *cg, bool frozen, struct wren_err **err);
int rt_cg2_destroy(struct rt_cgroup *cg, struct wren_err **err);
/* The spec's device rules as an eBPF program attached to the v2 cgroup open at cgfd, replacing
 * the one there; no rules leave it alone (cgroup_v2_devices.c). */
int rt_cg2_set_devices(int cgfd, const struct rt_resources *r, struct wren_err **err);
/* The program for a rule list (default deny, reduced as v1 reduces them): *out is malloc'd. */
struct bpf_insn;
int rt_cg2_devices_program(const struct rt_device_rule *rules, size_t n, struct bpf_insn **out,
			   size_t *n_insn, struct wren_err **err);

/* cpu.shares (v1, 2..262144) → cpu.weight (v2, 1..10000), the conversion runc, crun and the
 * kernel documentation agree on. 0 stays 0 (unset). */
uint64_t rt_cg2_shares_to_weight(uint64_t shares);
/* blkio.weight (10..1000) → io.weight (1..10000). 0 stays 0. */
uint64_t rt_cg2_blkio_to_io_weight(uint64_t weight);

#endif
