/* The systemd cgroup driver (see cgroup_systemd.h). Facts from systemd's org.freedesktop.systemd1
 * documentation and runc's systemd driver: the path form, the unit name, the slice nesting and the
 * properties a transient scope takes.
 *
 * Each D-Bus round trip blocks the shim's one loop for a few milliseconds, at most
 * RT_DBUS_TIMEOUT_MS per call; create and delete are rare enough for that, and a wedged systemd
 * then fails the request with a timeout instead of hanging the shim. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "runtime/cgroup_fs.h"
#include "runtime/cgroup_systemd.h"
#include "runtime/dbus.h"
#include "runtime/util.h"

#define SD_DEST	   "org.freedesktop.systemd1"
#define SD_PATH	   "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define DRIVER	   "systemd cgroup driver"

/* ---- paths ------------------------------------------------------------------------------------
 */

bool rt_systemd_is_path(const char *p)
{
	return p != NULL && p[0] != '/' && strchr(p, ':') != NULL;
}

/* What systemd accepts in a unit name (unit_name_is_valid's alphabet). */
static bool unit_chars_ok(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(":-_.\\@", *s))
			return false;
	return true;
}

int rt_systemd_slice_dir(const char *slice, char **out, struct wren_err **err)
{
	size_t n = strlen(slice), base;
	char *dir;

	*out = NULL;
	if (n < 6 || strcmp(slice + n - 6, ".slice") != 0 || strchr(slice, '/') ||
	    !unit_chars_ok(slice))
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "invalid slice name \"%s\"",
				     slice);
	if (strcmp(slice, "-.slice") == 0) {
		*out = xstrdup("");
		return 0;
	}
	base = n - 6;
	/* every '-' opens a nested slice: "a-b.slice" lives in "a.slice" */
	if (slice[0] == '-' || slice[base - 1] == '-' || strstr(slice, "--"))
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "invalid slice name \"%s\"",
				     slice);
	dir = xstrdup("");
	for (size_t i = 0; i <= base; i++) {
		if (i == base || slice[i] == '-') {
			char *d = xasprintf("%s/%.*s.slice", dir, (int)i, slice);

			free(dir);
			dir = d;
		}
	}
	*out = dir;
	return 0;
}

void rt_systemd_path_release(struct rt_systemd_path *p)
{
	free(p->slice);
	free(p->unit);
	free(p->cg_path);
	*p = (struct rt_systemd_path){0};
}

int rt_systemd_parse_path(const char *p, struct rt_systemd_path *out, struct wren_err **err)
{
	const char *c1 = strchr(p, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	_cleanup_free_ char *slice_dir = NULL;
	const char *name;

	*out = (struct rt_systemd_path){0};
	if (c1 == NULL || c2 == NULL || strchr(c2 + 1, ':'))
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
				     "cgroupsPath \"%s\": the systemd cgroup driver expects "
				     "\"slice:prefix:name\"",
				     p);
	name = c2 + 1;
	if (name[0] == '\0')
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "cgroupsPath \"%s\": empty name",
				     p);
	out->slice = c1 == p ? xstrdup("system.slice") : xstrndup(p, (size_t)(c1 - p));
	if (strlen(name) > 6 && strcmp(name + strlen(name) - 6, ".slice") == 0) {
		rt_systemd_path_release(out);
		return wren_err_code(err, WREN_E_UNIMPLEMENTED,
				     "cgroupsPath \"%s\": a slice as the container's unit is not "
				     "supported by wren (use a scope name)",
				     p);
	}
	/* runc's name: "<prefix>-<name>.scope", the prefix possibly empty */
	out->unit = xasprintf("%.*s-%s.scope", (int)(c2 - c1 - 1), c1 + 1, name);
	if (!unit_chars_ok(out->unit) || strlen(out->unit) > 255) {
		rt_systemd_path_release(out);
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
				     "cgroupsPath \"%s\": not a valid systemd unit name", p);
	}
	if (rt_systemd_slice_dir(out->slice, &slice_dir, err) < 0) {
		rt_systemd_path_release(out);
		return wren_err_wrap(err, "cgroupsPath \"%s\"", p);
	}
	out->cg_path = xasprintf("%s/%s", slice_dir, out->unit);
	return 0;
}

/* ---- D-Bus ------------------------------------------------------------------------------------
 */

/* UNAVAILABLE, not the cause's code: a missing socket is not a missing container. */
static int unreachable(struct wren_err **err)
{
	wren_err_wrap(err, DRIVER ": cannot reach systemd");
	if (err && *err)
		(*err)->code = WREN_E_UNAVAILABLE;
	return -1;
}

static int connect_systemd(struct rt_dbus **bus, struct wren_err **err)
{
	if (rt_dbus_open_system(bus, err) < 0)
		return unreachable(err);
	return 0;
}

/* "Cannot reach" also when a bus runs but no systemd is on it. */
static int sd_call(struct rt_dbus *bus, struct rt_dbus_msg *m, struct rt_dbus_reply **r,
		   struct wren_err **err)
{
	_cleanup_err_ struct wren_err *e = NULL;

	if (rt_dbus_call(bus, m, r, &e) == 0)
		return 0;
	if (strstr(e->msg, "ServiceUnknown") || strstr(e->msg, "NameHasNoOwner") ||
	    e->errnum == ETIMEDOUT) {
		wren_err_move(err, &e);
		return unreachable(err);
	}
	wren_err_move(err, &e);
	return -1;
}

static struct rt_dbus_msg *manager_call(const char *member, const char *sig)
{
	return rt_dbus_call_new(SD_DEST, SD_PATH, SD_MANAGER, member, sig);
}

/* runc's rounding: systemd keeps the quota per second in 10 ms steps; round up so that the
 * container never gets less than asked. */
static uint64_t quota_per_sec_usec(const struct rt_resources *r)
{
	uint64_t period = r->has_cpu_period && r->cpu_period ? r->cpu_period : 100000;
	uint64_t q = (uint64_t)r->cpu_quota * 1000000 / period;

	if (q % 10000)
		q = (q / 10000 + 1) * 10000;
	return q;
}

static void resource_props(struct rt_dbus_msg *m, const struct rt_resources *r, bool v2)
{
	if (r->has_memory_limit && r->memory_limit > 0)
		rt_dbus_prop_u64(m, v2 ? "MemoryMax" : "MemoryLimit", (uint64_t)r->memory_limit);
	if (r->has_cpu_shares && r->cpu_shares > 0) {
		if (v2)
			rt_dbus_prop_u64(m, "CPUWeight", rt_cg2_shares_to_weight(r->cpu_shares));
		else
			rt_dbus_prop_u64(m, "CPUShares", r->cpu_shares);
	}
	if (r->has_cpu_quota && r->cpu_quota > 0)
		rt_dbus_prop_u64(m, "CPUQuotaPerSecUSec", quota_per_sec_usec(r));
	if (r->has_pids_limit && r->pids_limit > 0)
		rt_dbus_prop_u64(m, "TasksMax", (uint64_t)r->pids_limit);
}

static int start_unit(struct rt_dbus *bus, const struct rt_systemd_path *sp,
		      const struct rt_resources *res, pid_t pid, char **job, struct wren_err **err)
{
	struct rt_dbus_msg *m = manager_call("StartTransientUnit", "ssa(sv)a(sa(sv))");
	bool v2 = rt_cgroup_host_mode() == RT_CGROUP_V2;
	uint32_t pids[1] = {(uint32_t)pid};
	_cleanup_free_ char *desc = xasprintf("wren container %s", sp->unit);
	struct rt_dbus_reply *r = NULL;
	struct rt_dbus_iter it;
	const char *path;
	size_t props, aux;

	rt_dbus_put_str(m, sp->unit);
	rt_dbus_put_str(m, "replace");
	props = rt_dbus_open_array(m, 8);
	rt_dbus_prop_str(m, "Description", desc);
	rt_dbus_prop_str(m, "Slice", sp->slice);
	rt_dbus_prop_bool(m, "Delegate", true);
	rt_dbus_prop_au32(m, "PIDs", pids, 1);
	rt_dbus_prop_bool(m, "MemoryAccounting", true);
	rt_dbus_prop_bool(m, "CPUAccounting", true);
	rt_dbus_prop_bool(m, "TasksAccounting", true);
	rt_dbus_prop_bool(m, "DefaultDependencies", false);
	resource_props(m, res, v2);
	rt_dbus_close_array(m, props);
	aux = rt_dbus_open_array(m, 8);
	rt_dbus_close_array(m, aux);
	if (sd_call(bus, m, &r, err) < 0)
		return wren_err_wrap(err, DRIVER ": start unit %s", sp->unit);
	rt_dbus_iter_init(&it, r);
	if (rt_dbus_get_str(&it, &path) < 0) {
		rt_dbus_reply_free(r);
		return wren_err_code(err, WREN_E_UNKNOWN, DRIVER ": start unit %s: bad reply",
				     sp->unit);
	}
	*job = xstrdup(path);
	rt_dbus_reply_free(r);
	return 0;
}

/* org.freedesktop.DBus.Properties.Get(path, iface, prop) for a string property. */
static int get_str_prop(struct rt_dbus *bus, const char *path, const char *iface, const char *prop,
			char **out, struct wren_err **err)
{
	struct rt_dbus_msg *m =
	    rt_dbus_call_new(SD_DEST, path, "org.freedesktop.DBus.Properties", "Get", "ss");
	struct rt_dbus_reply *r = NULL;
	struct rt_dbus_iter it, v;
	const char *s;

	rt_dbus_put_str(m, iface);
	rt_dbus_put_str(m, prop);
	if (sd_call(bus, m, &r, err) < 0)
		return -1;
	rt_dbus_iter_init(&it, r);
	if (rt_dbus_enter_variant(&it, &v) < 0 || rt_dbus_get_str(&v, &s) < 0) {
		rt_dbus_reply_free(r);
		return wren_err_code(err, WREN_E_UNKNOWN, "Get %s.%s: bad reply", iface, prop);
	}
	*out = xstrdup(s);
	rt_dbus_reply_free(r);
	return 0;
}

/* Poll the job until it is gone (systemd drops a job's object once it finished), then check that
 * the unit came up. Polling instead of JobRemoved works the same on the bus and on the private
 * socket, without match rules. */
static int wait_active(struct rt_dbus *bus, const char *unit, const char *job,
		       struct wren_err **err)
{
	struct timespec ts = {0, 2 * 1000 * 1000};
	_cleanup_free_ char *state = NULL, *unit_path = NULL;
	struct rt_dbus_reply *r = NULL;
	struct rt_dbus_msg *m;
	struct rt_dbus_iter it;
	const char *s;

	for (int i = 0;; i++) {
		_cleanup_err_ struct wren_err *e = NULL;
		_cleanup_free_ char *js = NULL;

		if (get_str_prop(bus, job, "org.freedesktop.systemd1.Job", "State", &js, &e) < 0) {
			if (e->code == WREN_E_NOT_FOUND)
				break; /* finished */
			wren_err_move(err, &e);
			return -1;
		}
		if (i * 2 >= RT_DBUS_TIMEOUT_MS)
			return wren_err_errno(err, ETIMEDOUT, "job %s still %s", job, js);
		nanosleep(&ts, NULL);
	}
	m = manager_call("GetUnit", "s");
	rt_dbus_put_str(m, unit);
	if (sd_call(bus, m, &r, err) < 0)
		return -1;
	rt_dbus_iter_init(&it, r);
	if (rt_dbus_get_str(&it, &s) == 0)
		unit_path = xstrdup(s);
	rt_dbus_reply_free(r);
	if (unit_path == NULL)
		return wren_err_code(err, WREN_E_UNKNOWN, "GetUnit %s: bad reply", unit);
	if (get_str_prop(bus, unit_path, "org.freedesktop.systemd1.Unit", "ActiveState", &state,
			 err) < 0)
		return -1;
	if (strcmp(state, "active") != 0)
		return wren_err_code(err, WREN_E_UNKNOWN, "unit %s is %s after its start job", unit,
				     state);
	return 0;
}

static int stop_on(struct rt_dbus *bus, const char *unit, struct wren_err **err)
{
	_cleanup_err_ struct wren_err *e = NULL;
	struct rt_dbus_msg *m = manager_call("StopUnit", "ss");

	rt_dbus_put_str(m, unit);
	rt_dbus_put_str(m, "replace");
	if (sd_call(bus, m, NULL, &e) < 0 && e->code != WREN_E_NOT_FOUND) {
		wren_err_move(err, &e);
		return wren_err_wrap(err, DRIVER ": stop unit %s", unit);
	}
	/* a scope whose processes were killed may be "failed": forget it, or its name stays taken
	 */
	m = manager_call("ResetFailedUnit", "s");
	rt_dbus_put_str(m, unit);
	sd_call(bus, m, NULL, NULL);
	return 0;
}

int rt_systemd_stop_unit(const char *unit, struct wren_err **err)
{
	struct rt_dbus *bus = NULL;
	int r;

	if (connect_systemd(&bus, err) < 0)
		return -1;
	r = stop_on(bus, unit, err);
	rt_dbus_close(bus);
	return r;
}

/* ---- the cgroup -------------------------------------------------------------------------------
 */

int rt_systemd_cgroup_create(const char *path, const struct rt_resources *res, pid_t pid,
			     struct rt_cgroup **out, struct wren_err **err)
{
	struct rt_systemd_path sp;
	struct rt_dbus *bus = NULL;
	_cleanup_free_ char *job = NULL;
	int r = -1;

	*out = NULL;
	if (rt_systemd_parse_path(path, &sp, err) < 0)
		return wren_err_wrap(err, DRIVER);
	if (connect_systemd(&bus, err) < 0)
		goto out;
	if (start_unit(bus, &sp, res, pid, &job, err) < 0)
		goto out;
	if (wait_active(bus, sp.unit, job, err) < 0) {
		wren_err_wrap(err, DRIVER ": start unit %s", sp.unit);
		goto stop;
	}
	/* The scope is ours (Delegate=yes): the cgroupfs code writes every limit, including
	 * those systemd has no property for. */
	if (rt_cgroup_create(sp.cg_path, res, out, err) < 0)
		goto stop;
	(*out)->systemd_unit = xstrdup(sp.unit);
	r = 0;
	goto out;
stop:
	stop_on(bus, sp.unit, NULL);
out:
	rt_dbus_close(bus);
	rt_systemd_path_release(&sp);
	return r;
}

int rt_systemd_cgroup_open(const char *path, struct rt_cgroup **out, struct wren_err **err)
{
	struct rt_systemd_path sp;
	int r;

	*out = NULL;
	if (rt_systemd_parse_path(path, &sp, err) < 0)
		return wren_err_wrap(err, DRIVER);
	r = rt_cgroup_open(sp.cg_path, out, err);
	if (r == 0)
		(*out)->systemd_unit = xstrdup(sp.unit);
	rt_systemd_path_release(&sp);
	return r;
}

int rt_systemd_cgroup_cleanup(const char *path, struct wren_err **err)
{
	_cleanup_err_ struct wren_err *e = NULL;
	struct rt_systemd_path sp;
	struct rt_cgroup *cg = NULL;
	int r;

	if (rt_systemd_cgroup_open(path, &cg, &e) == 0) {
		r = rt_cgroup_destroy(cg, err);
		rt_cgroup_free(cg);
		return r;
	}
	if (e->code != WREN_E_NOT_FOUND) {
		wren_err_move(err, &e);
		return -1;
	}
	/* the cgroup is gone; a unit left "failed" would keep its name taken */
	if (rt_systemd_parse_path(path, &sp, NULL) < 0)
		return 0;
	rt_systemd_stop_unit(sp.unit, NULL);
	rt_systemd_path_release(&sp);
	return 0;
}
