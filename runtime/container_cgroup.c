/* What the task API does to a live container's cgroup: freeze/thaw (Pause/Resume) and new limits
 * (Update). Stats and the OOM watch take the cgroup itself (rt_container_cgroup_handle) with
 * runtime/cgroup_stats.h and runtime/oom.h. Apart from container.c, which owns the container's
 * life, so that neither grows a second job. */
#include "runtime/cgroup.h"
#include "runtime/runtime.h"

/* from container.c */
const struct rt_cgroup *rt_container_cg(const struct rt_container *c);

const struct rt_cgroup *rt_container_cgroup_handle(const struct rt_container *c)
{
	return c ? rt_container_cg(c) : NULL;
}

static int no_cgroup(struct wren_err **err)
{
	return wren_err_code(err, WREN_E_NOT_FOUND, "cgroup does not exist: not found");
}

int rt_container_freeze(struct rt_container *c, bool frozen, struct wren_err **err)
{
	const struct rt_cgroup *cg = rt_container_cgroup_handle(c);

	if (cg == NULL)
		return no_cgroup(err);
	return rt_cgroup_freeze(cg, frozen, err);
}

int rt_container_update(struct rt_container *c, const struct rt_resources *res,
			struct wren_err **err)
{
	const struct rt_cgroup *cg = rt_container_cgroup_handle(c);

	if (cg == NULL)
		return no_cgroup(err);
	return rt_cgroup_update(cg, res, err);
}
