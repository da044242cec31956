/* The "linux" object of config.json: namespaces, uid/gid mappings, devices, cgroupsPath, sysctl,
 * rootfsPropagation, masked and read-only paths, mountLabel; and its release. Separate from
 * spec.c because it is the platform-specific part of the spec (the OCI spec's config-linux.md),
 * apart from the portable document. Its two large sub-objects have their own files:
 * linux.resources (spec_resources.c, shared with Update) and linux.seccomp (spec_seccomp.c). */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>

#include "runtime/spec.h"
#include "runtime/spec_json.h"
#include "runtime/util.h"

static const char *const ns_names[RT_NS__MAX] = {
    [RT_NS_PID] = "pid",       [RT_NS_NETWORK] = "network", [RT_NS_MOUNT] = "mount",
    [RT_NS_IPC] = "ipc",       [RT_NS_UTS] = "uts",	    [RT_NS_USER] = "user",
    [RT_NS_CGROUP] = "cgroup", [RT_NS_TIME] = "time",
};

static int parse_namespaces(const cJSON *lx, struct rt_spec *s, struct wren_err **err)
{
	const cJSON *arr, *e;
	size_t n, i = 0;
	bool seen[RT_NS__MAX] = {false};

	if (spec_get_array(lx, "namespaces", "linux", &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	s->namespaces = xzalloc(n * sizeof(*s->namespaces));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = spec_elem_base("linux", "namespaces", i);
		_cleanup_free_ char *type = NULL;
		struct rt_namespace *ns = &s->namespaces[i];
		int t;

		s->n_namespaces = ++i;
		if (!cJSON_IsObject(e))
			return spec_field_err(err, eb, NULL, "must be an object");
		if (spec_get_str(e, "type", eb, true, &type, err) < 0 ||
		    spec_get_str(e, "path", eb, false, &ns->path, err) < 0)
			return -1;
		for (t = 0; t < RT_NS__MAX; t++)
			if (strcmp(type, ns_names[t]) == 0)
				break;
		if (t == RT_NS__MAX) {
			_cleanup_free_ char *m = xasprintf("unknown namespace type \"%s\"", type);
			return spec_field_err(err, eb, "type", m);
		}
		if (seen[t]) {
			_cleanup_free_ char *m = xasprintf("duplicate namespace type \"%s\"", type);
			return spec_field_err(err, eb, "type", m);
		}
		seen[t] = true;
		ns->type = (enum rt_ns_type)t;
		if (ns->path != NULL && ns->path[0] == '\0') {
			free(ns->path);
			ns->path = NULL;
		}
		if (ns->path != NULL && ns->path[0] != '/')
			return spec_field_err(err, eb, "path", "must be an absolute path");
	}
	return 0;
}

static int parse_id_maps(const cJSON *lx, const char *key, struct rt_id_map **out, size_t *n_out,
			 struct wren_err **err)
{
	const cJSON *arr, *e;
	size_t n, i = 0;

	if (spec_get_array(lx, key, "linux", &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	*out = xzalloc(n * sizeof(**out));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = spec_elem_base("linux", key, i);
		struct rt_id_map *m = &(*out)[i];

		*n_out = ++i;
		if (!cJSON_IsObject(e))
			return spec_field_err(err, eb, NULL, "must be an object");
		if (spec_get_u32(e, "containerID", eb, &m->container_id, NULL, err) < 0 ||
		    spec_get_u32(e, "hostID", eb, &m->host_id, NULL, err) < 0 ||
		    spec_get_u32(e, "size", eb, &m->size, NULL, err) < 0)
			return -1;
		if (m->size == 0)
			return spec_field_err(err, eb, "size", "must be greater than zero");
	}
	return 0;
}

static int parse_devices(const cJSON *lx, struct rt_spec *s, struct wren_err **err)
{
	const cJSON *arr, *e;
	size_t n, i = 0;

	if (spec_get_array(lx, "devices", "linux", &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	s->devices = xzalloc(n * sizeof(*s->devices));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = spec_elem_base("linux", "devices", i);
		struct rt_device *d = &s->devices[i];
		uint32_t id = 0;

		s->n_devices = ++i;
		if (!cJSON_IsObject(e))
			return spec_field_err(err, eb, NULL, "must be an object");
		if (spec_get_str(e, "path", eb, true, &d->path, err) < 0 ||
		    spec_get_type_char(e, eb, "cbup", 0, &d->type, err) < 0)
			return -1;
		if (d->path[0] != '/')
			return spec_field_err(err, eb, "path", "must be an absolute path");
		if (spec_get_i64(e, "major", eb, 0, INT64_MAX, &d->major, NULL, err) < 0 ||
		    spec_get_i64(e, "minor", eb, 0, INT64_MAX, &d->minor, NULL, err) < 0 ||
		    spec_get_u32(e, "fileMode", eb, &d->file_mode, &d->has_file_mode, err) < 0 ||
		    spec_get_u32(e, "uid", eb, &id, &d->has_uid, err) < 0)
			return -1;
		d->uid = id;
		if (spec_get_u32(e, "gid", eb, &id, &d->has_gid, err) < 0)
			return -1;
		d->gid = id;
	}
	return 0;
}

int spec_parse_linux(const cJSON *root, struct rt_spec *s, struct wren_err **err)
{
	const cJSON *lx, *r;
	char **sk = NULL, **sv = NULL;
	size_t n = 0;

	if (spec_get_obj(root, "linux", "", &lx, err) < 0)
		return -1;
	if (lx == NULL)
		return 0;
	if (parse_namespaces(lx, s, err) < 0 ||
	    parse_id_maps(lx, "uidMappings", &s->uid_mappings, &s->n_uid_mappings, err) < 0 ||
	    parse_id_maps(lx, "gidMappings", &s->gid_mappings, &s->n_gid_mappings, err) < 0 ||
	    parse_devices(lx, s, err) < 0 ||
	    spec_get_str(lx, "cgroupsPath", "linux", false, &s->cgroups_path, err) < 0 ||
	    spec_get_obj(lx, "resources", "linux", &r, err) < 0)
		return -1;
	/* a new user namespace with no maps would leave its root unmapped: say so here, not as
	 * the init's setresuid failure */
	const struct rt_namespace *user = rt_spec_namespace(s, RT_NS_USER);
	if (user && !(user->path && user->path[0]) &&
	    (s->n_uid_mappings == 0 || s->n_gid_mappings == 0))
		return wren_err_code(
		    err, WREN_E_INVALID_ARGUMENT,
		    "linux: a new user namespace needs uidMappings and gidMappings");
	if (s->cgroups_path != NULL && s->cgroups_path[0] == '\0') {
		free(s->cgroups_path);
		s->cgroups_path = NULL;
	}
	if (r != NULL) {
		s->has_resources = true;
		if (spec_parse_resources(r, "linux.resources", &s->resources, err) < 0)
			return -1;
	}
	if (spec_get_string_map(lx, "sysctl", "linux", &sk, &sv, &n, err) < 0) {
		spec_strv_free(sk, n);
		spec_strv_free(sv, n);
		return -1;
	}
	s->sysctls = xzalloc((n + 1) * sizeof(*s->sysctls));
	for (size_t i = 0; i < n; i++)
		s->sysctls[i] = (struct rt_sysctl){.key = sk[i], .value = sv[i]};
	s->n_sysctls = n;
	free(sk);
	free(sv);
	if (spec_parse_seccomp(lx, s, err) < 0 ||
	    spec_get_str(lx, "rootfsPropagation", "linux", false, &s->rootfs_propagation, err) <
		0 ||
	    spec_get_strv(lx, "maskedPaths", "linux", false, &s->masked_paths, &s->n_masked_paths,
			  err) < 0 ||
	    spec_get_strv(lx, "readonlyPaths", "linux", false, &s->readonly_paths,
			  &s->n_readonly_paths, err) < 0 ||
	    spec_get_str(lx, "mountLabel", "linux", false, &s->mount_label, err) < 0)
		return -1;
	return 0;
}

void spec_linux_clear(struct rt_spec *s)
{
	for (size_t i = 0; i < s->n_namespaces; i++)
		free(s->namespaces[i].path);
	free(s->namespaces);
	free(s->uid_mappings);
	free(s->gid_mappings);
	for (size_t i = 0; i < s->n_devices; i++)
		free(s->devices[i].path);
	free(s->devices);
	free(s->cgroups_path);
	rt_resources_clear(&s->resources);
	for (size_t i = 0; i < s->n_sysctls; i++) {
		free(s->sysctls[i].key);
		free(s->sysctls[i].value);
	}
	free(s->sysctls);
	spec_seccomp_clear(&s->seccomp);
	free(s->rootfs_propagation);
	spec_strv_free(s->masked_paths, s->n_masked_paths);
	spec_strv_free(s->readonly_paths, s->n_readonly_paths);
	free(s->mount_label);
}
