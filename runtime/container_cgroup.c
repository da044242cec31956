/* What the task API does to a live container's cgroup: freeze/thaw (Pause/Resume) and new limits
 * (Update). Stats and the OOM watch take the cgroup itself (rt_container_cgroup_handle) with
 * runtime/cgroup_stats.h and runtime/oom.h. Apart from container.c, which owns the container's
 * life, so that neither grows a second job. */
#include "runtime/cgroup.h"
#include "runtime/cgroup_systemd.h"
#include "runtime/runtime.h"
#include "runtime/util.h"

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

bool rt_container_cgroup_systemd(const struct rt_spec *spec, bool option)
{
	return option || (spec != NULL && rt_systemd_is_path(spec->cgroups_path));
}

char *rt_container_cgroup_path(const struct rt_spec *spec, const char *id, bool systemd)
{
	const char *p = spec ? spec->cgroups_path : NULL;

	/* runc's default for the systemd driver is ":runc:<id>", i.e. system.slice/runc-<id>.scope
	 */
	if (systemd && (p == NULL || p[0] == '\0'))
		return xasprintf(":wren:%s", id);
	return rt_cgroup_path_for(spec, id);
}

int rt_container_cgroup_check(const char *path, bool systemd, struct wren_err **err)
{
	struct rt_systemd_path sp;

	if (!systemd)
		return 0; /* rt_cgroup_create says what is wrong with a cgroupfs path */
	if (rt_systemd_parse_path(path, &sp, err) < 0)
		return wren_err_wrap(err, "systemd cgroup driver");
	rt_systemd_path_release(&sp);
	return 0;
}
