/* config.json → struct rt_spec. The spec parser (runtime/spec*.c) is the one place in wren that
 * reads cJSON: every value is checked there, once, with an error that names the field
 * ("config.json: mounts[2].destination: must be an absolute path"), so the rest of the runtime
 * works on typed, trusted values. Unknown fields are ignored, as the OCI spec asks of runtimes.
 *
 * This file owns the document and its portable parts: root, process, mounts, hooks, annotations,
 * and the public rt_spec_* / rt_process_* entry points. The "linux" object is parsed in
 * spec_linux.c (its resources in spec_resources.c, its seccomp profile in spec_seccomp.c); the
 * field getters they all share are in spec_json.c. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "runtime/caps.h"
#include "runtime/mountopt.h"
#include "runtime/spec.h"
#include "runtime/spec_json.h"
#include "runtime/util.h"

static void strv_free_null(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* ---- process ----------------------------------------------------------------------------------
 */

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_rlimits(const cJSON *p, const char *base, struct rt_process *proc,
			 struct wren_err **err)
{
	const cJSON *arr, *e;
	size_t n, i = 0;

	if (spec_get_array(p, "rlimits", base, &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	proc->rlimits = xzalloc(n * sizeof(*proc->rlimits));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = spec_elem_base(base, "rlimits", i);
		_cleanup_free_ char *type = NULL;
		struct rt_rlimit *rl = &proc->rlimits[i];
		size_t k;

		if (!cJSON_IsObject(e))
			return spec_field_err(err, eb, NULL, "must be an object");
		if (spec_get_str(e, "type", eb, true, &type, err) < 0 ||
		    spec_get_u64(e, "soft", eb, UINT64_MAX, &rl->soft, NULL, err) < 0 ||
		    spec_get_u64(e, "hard", eb, UINT64_MAX, &rl->hard, NULL, err) < 0)
			return -1;
		for (k = 0; k < sizeof(rlimit_names) / sizeof(rlimit_names[0]); k++)
			if (strcmp(type, rlimit_names[k].name) == 0)
				break;
		if (k == sizeof(rlimit_names) / sizeof(rlimit_names[0])) {
			_cleanup_free_ char *m = xasprintf("unknown rlimit type \"%s\"", type);
			return spec_field_err(err, eb, "type", m);
		}
		for (size_t j = 0; j < i; j++)
			if (proc->rlimits[j].resource == rlimit_names[k].resource)
				return spec_field_err(err, eb, "type", "duplicate rlimit type");
		rl->resource = rlimit_names[k].resource;
		proc->n_rlimits = ++i;
	}
	return 0;
}

/* runc ignores capability names it does not know (a newer profile on an older kernel or libcap),
 * and so do we: the capability cannot be granted anyway. */
static int cap_mask(const cJSON *arr, const char *key, const char *base, uint64_t *mask,
		    struct wren_err **err)
{
	const cJSON *e;

	*mask = 0;
	cJSON_ArrayForEach(e, arr)
	{
		int c;

		if (!cJSON_IsString(e))
			return spec_field_err(err, base, key, "must be an array of strings");
		c = rt_cap_from_name(e->valuestring);
		if (c >= 0 && c < 64)
			*mask |= 1ULL << c;
	}
	return 0;
}

/* Two sets naming the same strings in the same order (both absent included). */
static bool same_names(const cJSON *a, const cJSON *b)
{
	const cJSON *x = a ? a->child : NULL, *y = b ? b->child : NULL;

	for (; x != NULL && y != NULL; x = x->next, y = y->next)
		if (!cJSON_IsString(x) || !cJSON_IsString(y) ||
		    strcmp(x->valuestring, y->valuestring) != 0)
			return false;
	return x == NULL && y == NULL;
}

static int parse_caps(const cJSON *p, const char *base, struct rt_process *proc,
		      struct wren_err **err)
{
	static const char *const keys[] = {"bounding", "effective", "inheritable", "permitted",
					   "ambient"};
	uint64_t *masks[] = {&proc->caps.bounding, &proc->caps.effective, &proc->caps.inheritable,
			     &proc->caps.permitted, &proc->caps.ambient};
	_cleanup_free_ char *cb = xstrjoin(base, *base ? "." : "", "capabilities", NULL);
	const cJSON *caps, *sets[sizeof(keys) / sizeof(keys[0])];

	if (spec_get_obj(p, "capabilities", base, &caps, err) < 0)
		return -1;
	if (caps == NULL)
		return 0;
	proc->has_caps = true;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t n, j = 0;

		if (spec_get_array(caps, keys[i], cb, &sets[i], &n, err) < 0)
			return -1;
		/* containerd writes one list into bounding, effective and permitted, and libcap's
		 * name lookup is most of what a set costs: a list seen before has its mask. */
		while (j < i && !same_names(sets[j], sets[i]))
			j++;
		if (j < i)
			*masks[i] = *masks[j];
		else if (cap_mask(sets[i], keys[i], cb, masks[i], err) < 0)
			return -1;
	}
	return 0;
}

static int parse_user(const cJSON *p, const char *base, struct rt_process *proc,
		      struct wren_err **err)
{
	_cleanup_free_ char *ub = xstrjoin(base, *base ? "." : "", "user", NULL);
	const cJSON *u, *arr, *e;
	uint32_t id = 0;
	size_t n, i = 0;

	if (spec_get_obj(p, "user", base, &u, err) < 0)
		return -1;
	if (u == NULL)
		return 0;
	if (spec_get_u32(u, "uid", ub, &id, NULL, err) < 0)
		return -1;
	proc->uid = id;
	id = 0;
	if (spec_get_u32(u, "gid", ub, &id, NULL, err) < 0)
		return -1;
	proc->gid = id;
	if (spec_get_u32(u, "umask", ub, &proc->umask, &proc->has_umask, err) < 0)
		return -1;
	if (spec_get_array(u, "additionalGids", ub, &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	proc->additional_gids = xzalloc(n * sizeof(gid_t));
	cJSON_ArrayForEach(e, arr)
	{
		if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > UINT32_MAX ||
		    e->valuedouble != trunc(e->valuedouble))
			return spec_field_err(err, ub, "additionalGids",
					      "must be an array of non-negative integers");
		proc->additional_gids[i] = (gid_t)e->valuedouble;
		proc->n_additional_gids = ++i;
	}
	return 0;
}

static int parse_process_obj(const cJSON *p, const char *base, struct rt_process **out,
			     struct wren_err **err)
{
	struct rt_process *proc = xzalloc(sizeof(*proc));
	const cJSON *cs;
	int64_t oom = 0;

	*out = proc; /* the caller frees a half-filled one */
	if (spec_get_bool(p, "terminal", base, &proc->terminal, NULL, err) < 0 ||
	    spec_get_obj(p, "consoleSize", base, &cs, err) < 0)
		return -1;
	if (cs != NULL) {
		_cleanup_free_ char *cb = xstrjoin(base, *base ? "." : "", "consoleSize", NULL);
		if (spec_get_u32(cs, "width", cb, &proc->console_width, NULL, err) < 0 ||
		    spec_get_u32(cs, "height", cb, &proc->console_height, NULL, err) < 0)
			return -1;
	}
	if (parse_user(p, base, proc, err) < 0)
		return -1;
	if (spec_get_strv(p, "args", base, false, &proc->args, &proc->n_args, NULL) < 0 ||
	    proc->n_args == 0)
		return spec_field_err(err, base, "args", "must be a non-empty array of strings");
	if (spec_get_strv(p, "env", base, true, &proc->env, &proc->n_env, err) < 0)
		return -1;
	if (spec_get_str(p, "cwd", base, false, &proc->cwd, err) < 0)
		return -1;
	if (proc->cwd == NULL || proc->cwd[0] != '/')
		return spec_field_err(err, base, "cwd", "must be an absolute path");
	if (parse_caps(p, base, proc, err) < 0 || parse_rlimits(p, base, proc, err) < 0)
		return -1;
	if (spec_get_bool(p, "noNewPrivileges", base, &proc->no_new_privileges, NULL, err) < 0 ||
	    spec_get_str(p, "apparmorProfile", base, false, &proc->apparmor_profile, err) < 0 ||
	    spec_get_str(p, "selinuxLabel", base, false, &proc->selinux_label, err) < 0 ||
	    spec_get_i64(p, "oomScoreAdj", base, -1000, 1000, &oom, &proc->has_oom_score_adj, err) <
		0)
		return -1;
	proc->oom_score_adj = (int)oom;
	return 0;
}

void rt_process_free(struct rt_process *p)
{
	if (p == NULL)
		return;
	free(p->additional_gids);
	spec_strv_free(p->args, p->n_args);
	spec_strv_free(p->env, p->n_env);
	free(p->cwd);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p);
}

int rt_process_parse(const char *json, size_t len, struct rt_process **out, struct wren_err **err)
{
	_cleanup_spec_arena_ struct spec_arena arena = SPEC_ARENA_INIT;
	cJSON *root = NULL;
	struct rt_process *p = NULL;

	*out = NULL;
	if (spec_parse_json(&arena, json, len, "process", &root, err) < 0)
		return -1;
	if (parse_process_obj(root, "", &p, err) < 0) {
		rt_process_free(p);
		return wren_err_wrap(err, "process");
	}
	*out = p;
	return 0;
}

/* ---- mounts, hooks, root ----------------------------------------------------------------------
 */

static int parse_mounts(const cJSON *root, struct rt_spec *s, struct wren_err **err)
{
	const cJSON *arr, *e;
	size_t n, i = 0;

	if (spec_get_array(root, "mounts", "", &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	s->mounts = xzalloc(n * sizeof(*s->mounts));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = spec_elem_base("", "mounts", i);
		struct rt_mount_spec *m = &s->mounts[i];
		struct rt_mountopt mo;
		char **opts = NULL;
		size_t n_opts = 0;

		s->n_mounts = ++i;
		if (!cJSON_IsObject(e))
			return spec_field_err(err, eb, NULL, "must be an object");
		if (spec_get_str(e, "destination", eb, true, &m->destination, err) < 0)
			return -1;
		if (m->destination[0] != '/')
			return spec_field_err(err, eb, "destination", "must be an absolute path");
		if (spec_get_str(e, "type", eb, false, &m->type, err) < 0 ||
		    spec_get_str(e, "source", eb, false, &m->source, err) < 0 ||
		    spec_get_strv(e, "options", eb, false, &opts, &n_opts, err) < 0)
			return -1;
		if (m->type == NULL)
			m->type = xstrdup("");
		if (m->source == NULL)
			m->source = xstrdup("");
		rt_mountopt_parse((const char *const *)opts, n_opts, &mo);
		spec_strv_free(opts, n_opts);
		m->flags = mo.flags;
		m->clear_flags = mo.clear_flags;
		m->propagation = mo.propagation;
		m->rec_set = mo.rec_set;
		m->rec_clr = mo.rec_clr;
		m->data = mo.data;
		m->bind = mo.bind;
		/* runc treats type "bind" as a bind mount even without the option word. */
		if (strcmp(m->type, "bind") == 0 && !m->bind) {
			m->bind = true;
			m->flags |= MS_BIND;
		}
	}
	return 0;
}

static const char *const hook_keys[RT_HOOK__MAX] = {
    [RT_HOOK_PRESTART] = "prestart",
    [RT_HOOK_CREATE_RUNTIME] = "createRuntime",
    [RT_HOOK_CREATE_CONTAINER] = "createContainer",
    [RT_HOOK_START_CONTAINER] = "startContainer",
    [RT_HOOK_POSTSTART] = "poststart",
    [RT_HOOK_POSTSTOP] = "poststop",
};

static void hooks_free(struct rt_hook *h, size_t n)
{
	for (size_t i = 0; h && i < n; i++) {
		free(h[i].path);
		strv_free_null(h[i].args);
		strv_free_null(h[i].env);
	}
	free(h);
}

static int parse_hook(const cJSON *e, const char *eb, struct rt_hook *h, struct wren_err **err)
{
	size_t n;
	int64_t timeout = 0;
	bool has_timeout = false;

	if (!cJSON_IsObject(e))
		return spec_field_err(err, eb, NULL, "must be an object");
	if (spec_get_str(e, "path", eb, true, &h->path, err) < 0)
		return -1;
	if (h->path[0] != '/')
		return spec_field_err(err, eb, "path", "must be an absolute path");
	if (spec_get_strv(e, "args", eb, false, &h->args, &n, err) < 0 ||
	    spec_get_strv(e, "env", eb, true, &h->env, &n, err) < 0 ||
	    spec_get_i64(e, "timeout", eb, 1, INT_MAX, &timeout, &has_timeout, err) < 0)
		return -1;
	/* Like Go's exec.Cmd, which runc uses: no args means argv = { path }. */
	if (h->args == NULL || h->args[0] == NULL) {
		free(h->args);
		h->args = xzalloc(2 * sizeof(char *));
		h->args[0] = xstrdup(h->path);
	}
	h->timeout = (int)timeout;
	return 0;
}

static int parse_hooks(const cJSON *root, struct rt_spec *s, struct wren_err **err)
{
	const cJSON *hooks;

	if (spec_get_obj(root, "hooks", "", &hooks, err) < 0)
		return -1;
	if (hooks == NULL)
		return 0;
	for (int k = 0; k < RT_HOOK__MAX; k++) {
		_cleanup_free_ char *kb = xstrdup("hooks");
		const cJSON *arr, *e;
		size_t n, i = 0;

		if (spec_get_array(hooks, hook_keys[k], kb, &arr, &n, err) < 0)
			return -1;
		if (arr == NULL)
			continue;
		s->hooks[k] = xzalloc(n * sizeof(struct rt_hook));
		cJSON_ArrayForEach(e, arr)
		{
			_cleanup_free_ char *eb = spec_elem_base(kb, hook_keys[k], i);

			s->n_hooks[k] = ++i;
			if (parse_hook(e, eb, &s->hooks[k][i - 1], err) < 0)
				return -1;
		}
	}
	return 0;
}

static int parse_root(const cJSON *root, const char *bundle, struct rt_spec *s,
		      struct wren_err **err)
{
	const cJSON *r;
	char *path = NULL;

	if (spec_get_obj(root, "root", "", &r, err) < 0)
		return -1;
	if (r == NULL)
		return spec_field_err(err, "root", NULL, "must be an object");
	if (spec_get_str(r, "path", "root", true, &path, err) < 0)
		return -1;
	if (path[0] == '\0') {
		free(path);
		return spec_field_err(err, "root", "path", "must not be empty");
	}
	if (path[0] != '/' && bundle != NULL) {
		s->root_path = xstrjoin(bundle, "/", path, NULL);
		free(path);
	} else {
		s->root_path = path;
	}
	return spec_get_bool(r, "readonly", "root", &s->root_readonly, NULL, err);
}

/* ---- the document -----------------------------------------------------------------------------
 */

static int parse_spec_obj(const cJSON *root, const char *bundle, struct rt_spec *s,
			  struct wren_err **err)
{
	const cJSON *p;

	if (spec_get_str(root, "ociVersion", "", false, &s->oci_version, err) < 0 ||
	    parse_root(root, bundle, s, err) < 0 ||
	    spec_get_str(root, "hostname", "", false, &s->hostname, err) < 0 ||
	    spec_get_str(root, "domainname", "", false, &s->domainname, err) < 0 ||
	    spec_get_obj(root, "process", "", &p, err) < 0)
		return -1;
	if (p != NULL && parse_process_obj(p, "process", &s->process, err) < 0)
		return -1;
	if (parse_mounts(root, s, err) < 0 || parse_hooks(root, s, err) < 0 ||
	    spec_get_string_map(root, "annotations", "", &s->annotation_keys, &s->annotation_values,
				&s->n_annotations, err) < 0 ||
	    spec_parse_linux(root, s, err) < 0)
		return -1;
	return 0;
}

int rt_spec_parse(const char *json, size_t len, const char *bundle, struct rt_spec **out,
		  struct wren_err **err)
{
	_cleanup_spec_arena_ struct spec_arena arena = SPEC_ARENA_INIT;
	cJSON *root = NULL;
	struct rt_spec *s;

	*out = NULL;
	if (spec_parse_json(&arena, json, len, "config.json", &root, err) < 0)
		return -1;
	s = xzalloc(sizeof(*s));
	if (parse_spec_obj(root, bundle, s, err) < 0) {
		rt_spec_free(s);
		return wren_err_wrap(err, "config.json");
	}
	*out = s;
	return 0;
}

int rt_spec_load(const char *bundle, struct rt_spec **out, struct wren_err **err)
{
	_cleanup_free_ char *path = xstrjoin(bundle, "/config.json", NULL);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	*out = NULL;
	/* One byte over the bound, so that an oversized file reaches the size check. */
	if (read_file(path, SPEC_MAX_SIZE + 1, &buf, &len) < 0) {
		if (errno == EFBIG)
			return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
					     "config.json: larger than %u bytes", SPEC_MAX_SIZE);
		return wren_err_errno(err, errno, "read %s", path);
	}
	return rt_spec_parse(buf, len, bundle, out, err);
}

void rt_spec_free(struct rt_spec *s)
{
	if (s == NULL)
		return;
	free(s->oci_version);
	free(s->root_path);
	free(s->hostname);
	free(s->domainname);
	rt_process_free(s->process);
	for (size_t i = 0; i < s->n_mounts; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		free(s->mounts[i].data);
	}
	free(s->mounts);
	for (int k = 0; k < RT_HOOK__MAX; k++)
		hooks_free(s->hooks[k], s->n_hooks[k]);
	spec_strv_free(s->annotation_keys, s->n_annotations);
	spec_strv_free(s->annotation_values, s->n_annotations);
	spec_linux_clear(s);
	free(s);
}

const char *rt_spec_annotation(const struct rt_spec *s, const char *key)
{
	for (size_t i = 0; s && i < s->n_annotations; i++)
		if (strcmp(s->annotation_keys[i], key) == 0)
			return s->annotation_values[i];
	return NULL;
}

const struct rt_namespace *rt_spec_namespace(const struct rt_spec *s, enum rt_ns_type t)
{
	for (size_t i = 0; s && i < s->n_namespaces; i++)
		if (s->namespaces[i].type == t)
			return &s->namespaces[i];
	return NULL;
}
