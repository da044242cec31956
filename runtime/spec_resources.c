/* LinuxResources (linux.resources): memory, cpu, pids, blockIO, device rules, hugepage limits and
 * cgroup v2 "unified" values. Separate from spec_linux.c because it is parsed on two paths: inside
 * config.json at create, and on its own for Update (rt_resources_parse), where errors name the
 * field from "resources" instead of "linux.resources". */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>

#include "runtime/spec.h"
#include "runtime/spec_json.h"
#include "runtime/util.h"

/* blockIO.weightDevice[] ({major, minor, weight?, leafWeight?}) and the throttle lists
 * ({major, minor, rate}). */
static const char *const blkio_list_keys[RT_BLKIO_NLISTS] = {
    [RT_BLKIO_WEIGHT_DEVICE] = "weightDevice",
    [RT_BLKIO_READ_BPS] = "throttleReadBpsDevice",
    [RT_BLKIO_WRITE_BPS] = "throttleWriteBpsDevice",
    [RT_BLKIO_READ_IOPS] = "throttleReadIOPSDevice",
    [RT_BLKIO_WRITE_IOPS] = "throttleWriteIOPSDevice",
};

static int parse_blkio_list(const cJSON *o, const char *base, enum rt_blkio_list which,
			    struct rt_resources *res, struct wren_err **err)
{
	const char *key = blkio_list_keys[which];
	const cJSON *arr, *e;
	size_t n, i = 0;

	if (spec_get_array(o, key, base, &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	res->blkio_lists[which] = xzalloc((n ? n : 1) * sizeof(struct rt_blkio_device));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = spec_elem_base(base, key, i);
		struct rt_blkio_device *d = &res->blkio_lists[which][i];
		bool has_major = false, has_minor = false, has_rate = false;
		uint64_t w = 0, lw = 0;

		res->n_blkio[which] = ++i;
		if (!cJSON_IsObject(e))
			return spec_field_err(err, eb, NULL, "must be an object");
		if (spec_get_i64(e, "major", eb, 0, INT64_MAX, &d->major, &has_major, err) < 0 ||
		    spec_get_i64(e, "minor", eb, 0, INT64_MAX, &d->minor, &has_minor, err) < 0)
			return -1;
		if (!has_major || !has_minor)
			return spec_field_err(err, eb, has_major ? "minor" : "major",
					      "is required");
		if (which == RT_BLKIO_WEIGHT_DEVICE) {
			if (spec_get_u64(e, "weight", eb, UINT16_MAX, &w, &d->has_weight, err) <
				0 ||
			    spec_get_u64(e, "leafWeight", eb, UINT16_MAX, &lw, &d->has_leaf_weight,
					 err) < 0)
				return -1;
			d->weight = (uint16_t)w;
			d->leaf_weight = (uint16_t)lw;
		} else {
			if (spec_get_u64(e, "rate", eb, UINT64_MAX, &d->rate, &has_rate, err) < 0)
				return -1;
			if (!has_rate)
				return spec_field_err(err, eb, "rate", "is required");
		}
	}
	return 0;
}

static int parse_device_rules(const cJSON *r, const char *base, struct rt_resources *res,
			      struct wren_err **err)
{
	const cJSON *arr, *e;
	size_t n, i = 0;

	if (spec_get_array(r, "devices", base, &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	res->devices = xzalloc(n * sizeof(*res->devices));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = spec_elem_base(base, "devices", i);
		struct rt_device_rule *d = &res->devices[i];
		bool has;

		res->n_devices = ++i;
		d->major = d->minor = -1;
		if (!cJSON_IsObject(e))
			return spec_field_err(err, eb, NULL, "must be an object");
		if (spec_get_bool(e, "allow", eb, &d->allow, &has, err) < 0)
			return -1;
		if (!has)
			return spec_field_err(err, eb, "allow", "must be a boolean");
		if (spec_get_type_char(e, eb, "acb", 'a', &d->type, err) < 0 ||
		    spec_get_i64(e, "major", eb, -1, INT64_MAX, &d->major, NULL, err) < 0 ||
		    spec_get_i64(e, "minor", eb, -1, INT64_MAX, &d->minor, NULL, err) < 0 ||
		    spec_get_str(e, "access", eb, false, &d->access, err) < 0)
			return -1;
		if (d->access == NULL || d->access[0] == '\0') {
			free(d->access);
			d->access = xstrdup("rwm");
		}
		if (strspn(d->access, "rwm") != strlen(d->access))
			return spec_field_err(err, eb, "access",
					      "must be a combination of r, w and m");
	}
	return 0;
}

static int parse_memory(const cJSON *r, const char *base, struct rt_resources *res,
			struct wren_err **err)
{
	_cleanup_free_ char *mb = xstrjoin(base, ".memory", NULL);
	const cJSON *m;
	int64_t swappiness = -1;
	bool has_swappiness = false;

	if (spec_get_obj(r, "memory", base, &m, err) < 0)
		return -1;
	if (m == NULL)
		return 0;
	if (spec_get_i64(m, "limit", mb, -1, INT64_MAX, &res->memory_limit, &res->has_memory_limit,
			 err) < 0 ||
	    spec_get_i64(m, "reservation", mb, -1, INT64_MAX, &res->memory_reservation,
			 &res->has_memory_reservation, err) < 0 ||
	    spec_get_i64(m, "swap", mb, -1, INT64_MAX, &res->memory_swap, &res->has_memory_swap,
			 err) < 0 ||
	    spec_get_i64(m, "kernel", mb, -1, INT64_MAX, &res->memory_kernel,
			 &res->has_memory_kernel, err) < 0 ||
	    spec_get_bool(m, "disableOOMKiller", mb, &res->disable_oom_killer,
			  &res->has_disable_oom_killer, err) < 0)
		return -1;
	/* Docker sends -1 for "leave swappiness alone"; anything else must be 0..100. */
	if (spec_get_i64(m, "swappiness", mb, -1, INT64_MAX, &swappiness, &has_swappiness, err) < 0)
		return -1;
	if (has_swappiness && swappiness > 100)
		return spec_field_err(err, mb, "swappiness", "must be between 0 and 100");
	if (has_swappiness && swappiness >= 0) {
		res->has_memory_swappiness = true;
		res->memory_swappiness = (uint64_t)swappiness;
	}
	return 0;
}

static int parse_cpu(const cJSON *r, const char *base, struct rt_resources *res,
		     struct wren_err **err)
{
	_cleanup_free_ char *cb = xstrjoin(base, ".cpu", NULL);
	const cJSON *c;

	if (spec_get_obj(r, "cpu", base, &c, err) < 0)
		return -1;
	if (c == NULL)
		return 0;
	if (spec_get_u64(c, "shares", cb, UINT64_MAX, &res->cpu_shares, &res->has_cpu_shares, err) <
		0 ||
	    spec_get_i64(c, "quota", cb, -1, INT64_MAX, &res->cpu_quota, &res->has_cpu_quota, err) <
		0 ||
	    spec_get_u64(c, "period", cb, UINT64_MAX, &res->cpu_period, &res->has_cpu_period, err) <
		0 ||
	    spec_get_i64(c, "realtimeRuntime", cb, -1, INT64_MAX, &res->cpu_realtime_runtime,
			 &res->has_cpu_realtime_runtime, err) < 0 ||
	    spec_get_u64(c, "realtimePeriod", cb, UINT64_MAX, &res->cpu_realtime_period,
			 &res->has_cpu_realtime_period, err) < 0 ||
	    spec_get_i64(c, "idle", cb, INT64_MIN, INT64_MAX, &res->cpu_idle, &res->has_cpu_idle,
			 err) < 0 ||
	    spec_get_str(c, "cpus", cb, false, &res->cpu_cpus, err) < 0 ||
	    spec_get_str(c, "mems", cb, false, &res->cpu_mems, err) < 0)
		return -1;
	return 0;
}

static int parse_hugepages(const cJSON *r, const char *base, struct rt_resources *res,
			   struct wren_err **err)
{
	const cJSON *arr, *e;
	size_t n, i = 0;

	if (spec_get_array(r, "hugepageLimits", base, &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	res->hugepage_limits = xzalloc(n * sizeof(*res->hugepage_limits));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = spec_elem_base(base, "hugepageLimits", i);
		char *ps;

		res->n_hugepage_limits = ++i;
		if (!cJSON_IsObject(e))
			return spec_field_err(err, eb, NULL, "must be an object");
		if (spec_get_str(e, "pageSize", eb, true, &res->hugepage_limits[i - 1].page_size,
				 err) < 0 ||
		    spec_get_u64(e, "limit", eb, UINT64_MAX, &res->hugepage_limits[i - 1].limit,
				 NULL, err) < 0)
			return -1;
		/* It becomes part of a file name: hugetlb.<pageSize>.limit_in_bytes. */
		ps = res->hugepage_limits[i - 1].page_size;
		if (ps[0] == '\0' || strchr(ps, '/') != NULL || strchr(ps, '.') != NULL)
			return spec_field_err(err, eb, "pageSize",
					      "must be a page size like \"2MB\"");
	}
	return 0;
}

int spec_parse_resources(const cJSON *r, const char *base, struct rt_resources *res,
			 struct wren_err **err)
{
	const cJSON *o;
	int64_t pids = 0;

	if (parse_memory(r, base, res, err) < 0 || parse_cpu(r, base, res, err) < 0)
		return -1;
	if (spec_get_obj(r, "pids", base, &o, err) < 0)
		return -1;
	if (o != NULL) {
		_cleanup_free_ char *pb = xstrjoin(base, ".pids", NULL);
		if (spec_get_i64(o, "limit", pb, INT64_MIN, INT64_MAX, &pids, &res->has_pids_limit,
				 err) < 0)
			return -1;
		res->pids_limit = pids;
	}
	if (spec_get_obj(r, "blockIO", base, &o, err) < 0)
		return -1;
	if (o != NULL) {
		_cleanup_free_ char *bb = xstrjoin(base, ".blockIO", NULL);
		uint64_t w = 0, lw = 0;
		if (spec_get_u64(o, "weight", bb, UINT16_MAX, &w, &res->has_blkio_weight, err) <
			0 ||
		    spec_get_u64(o, "leafWeight", bb, UINT16_MAX, &lw, &res->has_blkio_leaf_weight,
				 err) < 0)
			return -1;
		res->blkio_weight = (uint16_t)w;
		res->blkio_leaf_weight = (uint16_t)lw;
		for (int l = 0; l < RT_BLKIO_NLISTS; l++)
			if (parse_blkio_list(o, bb, (enum rt_blkio_list)l, res, err) < 0)
				return -1;
	}
	if (parse_device_rules(r, base, res, err) < 0 || parse_hugepages(r, base, res, err) < 0 ||
	    spec_get_string_map(r, "unified", base, &res->unified_keys, &res->unified_values,
				&res->n_unified, err) < 0)
		return -1;
	return 0;
}

void rt_resources_clear(struct rt_resources *r)
{
	if (r == NULL)
		return;
	free(r->cpu_cpus);
	free(r->cpu_mems);
	for (size_t i = 0; i < r->n_devices; i++)
		free(r->devices[i].access);
	free(r->devices);
	for (size_t i = 0; i < r->n_hugepage_limits; i++)
		free(r->hugepage_limits[i].page_size);
	free(r->hugepage_limits);
	for (int l = 0; l < RT_BLKIO_NLISTS; l++)
		free(r->blkio_lists[l]);
	spec_strv_free(r->unified_keys, r->n_unified);
	spec_strv_free(r->unified_values, r->n_unified);
	memset(r, 0, sizeof(*r));
}

int rt_resources_parse(const char *json, size_t len, struct rt_resources *out,
		       struct wren_err **err)
{
	_cleanup_spec_arena_ struct spec_arena arena = SPEC_ARENA_INIT;
	cJSON *root = NULL;

	memset(out, 0, sizeof(*out));
	if (spec_parse_json(&arena, json, len, "resources", &root, err) < 0)
		return -1;
	if (spec_parse_resources(root, "resources", out, err) < 0) {
		rt_resources_clear(out);
		return -1;
	}
	return 0;
}
