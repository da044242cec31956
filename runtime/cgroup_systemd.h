/* The systemd cgroup driver: a container's cgroup is a transient scope unit that systemd creates
 * (StartTransientUnit over D-Bus, runtime/dbus.h) with the init's pid in it and delegates to us;
 * the limits systemd knows are set as unit properties (so that a daemon-reload keeps them), and
 * every limit is then written through the cgroupfs code like any other cgroup. */
#ifndef WREN_CGROUP_SYSTEMD_H
#define WREN_CGROUP_SYSTEMD_H

#include <stdbool.h>
#include <sys/types.h>

#include "runtime/cgroup.h"
#include "runtime/err.h"
#include "runtime/spec.h"

/* "slice:prefix:name", parsed as runc does. */
struct rt_systemd_path {
	char *slice;   /* "system.slice" when the spec leaves it empty */
	char *unit;    /* "<prefix>-<name>.scope", or name itself if it ends in ".slice" */
	char *cg_path; /* the unit's cgroup below the root: "/system.slice/wren-x.scope" */
};

/* Whether a cgroupsPath has the systemd form (not absolute, with a ':'). */
bool rt_systemd_is_path(const char *p);
/* Parse "slice:prefix:name"; INVALID_ARGUMENT with the reason for anything else. */
int rt_systemd_parse_path(const char *p, struct rt_systemd_path *out, struct wren_err **err);
/* "a-b-c.slice" → "/a.slice/a-b.slice/a-b-c.slice" (systemd's slice nesting); "-.slice" → "". */
int rt_systemd_slice_dir(const char *slice, char **out, struct wren_err **err);
void rt_systemd_path_release(struct rt_systemd_path *p);

/* Start the scope for path with pid in it, wait for its job (bounded), then open its cgroup and
 * write res. On failure the unit is stopped again and *out is NULL. The error starts with
 * "systemd cgroup driver: " and says "cannot reach systemd" where no systemd answers. */
int rt_systemd_cgroup_create(const char *path, const struct rt_resources *res, pid_t pid,
			     struct rt_cgroup **out, struct wren_err **err);
/* Open the scope's cgroup of an existing container (reloads, the delete action). */
int rt_systemd_cgroup_open(const char *path, struct rt_cgroup **out, struct wren_err **err);
/* The delete action's clean-up of a dead shim's container: kill and remove what is left of the
 * scope's cgroup and stop the unit. Nothing there is fine. */
int rt_systemd_cgroup_cleanup(const char *path, struct wren_err **err);
/* StopUnit and ResetFailedUnit; a unit that is already gone is fine. */
int rt_systemd_stop_unit(const char *unit, struct wren_err **err);

#endif
