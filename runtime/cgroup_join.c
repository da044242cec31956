/* Children that move themselves into their container's cgroup on a v1 (hybrid) host.
 *
 * The daemon used to move each container init and each exec process by writing its pid to
 * cgroup.procs in every hierarchy. Moving another process takes the kernel's global
 * cgroup_threadgroup_rwsem for writing, and the first writer after a quiet spell waits for an RCU
 * grace period: 14-19 ms of wall time on this kind of machine, on every `ctr task exec` and every
 * create (runc pays it too). Since Linux 6.0 a thread that moves itself (writes "0" to `tasks`)
 * skips that lock, since it can neither exit nor exec while it writes. Our children are
 * single-threaded clones, so moving their one thread moves the process; they do it first thing,
 * before they join a user namespace or drop anything. Older kernels take the slow path, and the
 * move is still right.
 *
 * The cgroup2 mount of a hybrid host has no `tasks` (and moving a lone thread between its domain
 * cgroups is refused): a child is born in it instead, with clone3's CLONE_INTO_CGROUP on that
 * directory, which only takes the lock's cheap reader side.
 *
 * The daemon opens the files before it clones (rt_cgroup_prepare_join) and keeps them for the
 * container's life, so a child does no path walk. On pure v2 children are born in place and
 * none of this is used. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cgroup_fs.h"
#include "runtime/util.h"

static bool is_unified(const struct rt_cgroup *cg, size_t i)
{
	return strcmp(cg->ctrls[i], UNIFIED) == 0;
}

int rt_cgroup_prepare_join(struct rt_cgroup *cg, struct wren_err **err)
{
	if (cg->mode != RT_CGROUP_V1)
		return 0;
	if (cg->join_fds == NULL) {
		cg->join_fds = xmalloc((cg->n_dirs ? cg->n_dirs : 1) * sizeof(int));
		for (size_t i = 0; i < cg->n_dirs; i++)
			cg->join_fds[i] = -1;
	}
	for (size_t i = 0; i < cg->n_dirs; i++) {
		bool unified = is_unified(cg, i);
		_cleanup_free_ char *p = NULL;

		if (cg->join_fds[i] >= 0)
			continue;
		p = unified ? xstrdup(cg->dirs[i]) : xstrjoin(cg->dirs[i], "/tasks", NULL);
		cg->join_fds[i] = unified ? open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
					  : open(p, O_WRONLY | O_CLOEXEC);
		if (cg->join_fds[i] < 0)
			return wren_err_errno(err, errno, "cgroup: open %s", p);
	}
	return 0;
}

int rt_cgroup_clone_fd(const struct rt_cgroup *cg)
{
	if (cg->mode == RT_CGROUP_V2)
		return cg->dirfd;
	for (size_t i = 0; cg->join_fds && i < cg->n_dirs; i++)
		if (is_unified(cg, i))
			return cg->join_fds[i];
	return -1;
}

/* A hierarchy whose kept file is missing or went stale (the cgroup was removed, and maybe made
 * again at the same path): by path, as the daemon's attach does. */
static int join_by_path(const struct rt_cgroup *cg, size_t i, struct wren_err **err)
{
	/* not born there: only cgroup.procs can take us (the slow path, still right) */
	const char *file = is_unified(cg, i) ? "cgroup.procs" : "tasks";
	_cleanup_free_ char *p = xstrjoin(cg->dirs[i], "/", file, NULL);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "0", 1) != 1)
		return wren_err_errno(err, errno, "cgroup: join %s", p);
	return 0;
}

int rt_cgroup_join_self(const struct rt_cgroup *cg, bool born_in_place, struct wren_err **err)
{
	if (cg->mode == RT_CGROUP_V2) {
		_cleanup_free_ char *p = NULL;
		_cleanup_close_ int fd = -1;

		if (born_in_place)
			return 0;
		p = xstrjoin(cg->dir, "/cgroup.procs", NULL);
		fd = open(p, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			return wren_err_errno(err, errno, "cgroup: join %s", p);
		return 0;
	}
	for (size_t i = 0; i < cg->n_dirs; i++) {
		int fd = cg->join_fds ? cg->join_fds[i] : -1;

		if (is_unified(cg, i)) {
			if (!born_in_place && join_by_path(cg, i, err) < 0)
				return -1;
			continue;
		}
		if (fd >= 0 && write(fd, "0", 1) == 1)
			continue;
		if (join_by_path(cg, i, err) < 0)
			return -1;
	}
	return 0;
}

size_t rt_cgroup_join_steps(const struct rt_cgroup *cg, bool born_in_place,
			    struct rt_cgroup_join_step *out,
			    const char *(*join)(void *ud, const char *dir, const char *file),
			    void *ud)
{
	size_t n = 0;

	if (cg->mode == RT_CGROUP_V2) {
		if (born_in_place)
			return 0;
		if (out)
			out[0] =
			    (struct rt_cgroup_join_step){-1, join(ud, cg->dir, "/cgroup.procs")};
		return 1;
	}
	for (size_t i = 0; i < cg->n_dirs; i++) {
		bool unified = is_unified(cg, i);

		if (unified && born_in_place)
			continue;
		if (out)
			out[n] = (struct rt_cgroup_join_step){
			    unified || !cg->join_fds ? -1 : cg->join_fds[i],
			    join(ud, cg->dirs[i], unified ? "/cgroup.procs" : "/tasks")};
		n++;
	}
	return n;
}
