/* config.json → struct rt_spec. The one place in wren that reads cJSON: every value is checked
 * here, once, with an error that names the field ("config.json: mounts[2].destination: must be an
 * absolute path"), so the rest of the runtime works on typed, trusted values. Unknown fields are
 * ignored, as the OCI spec asks of runtimes. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "runtime/caps.h"
#include "runtime/mountopt.h"
#include "runtime/spec.h"
#include "runtime/util.h"

/* config.json is untrusted input: bound what we are willing to parse (architecture.md §5). */
#define SPEC_MAX_SIZE (16u << 20)

static inline void cjson_deletep(cJSON **j)
{
	cJSON_Delete(*j);
}
#define _cleanup_cjson_ __attribute__((cleanup(cjson_deletep)))

/* ---- field access: each helper names the field ("<base>.<key>") in its error ---------------- */

static int field_err(struct wren_err **err, const char *base, const char *key, const char *what)
{
	return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "%s%s%s: %s", base,
			     *base && key ? "." : "", key ? key : "", what);
}

static const cJSON *item(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	/* An explicit null means the same as an absent field (Go's omitempty pointers). */
	return cJSON_IsNull(v) ? NULL : v;
}

static int get_obj(const cJSON *o, const char *key, const char *base, const cJSON **out,
		   struct wren_err **err)
{
	const cJSON *v = item(o, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!cJSON_IsObject(v))
		return field_err(err, base, key, "must be an object");
	*out = v;
	return 0;
}

static int get_array(const cJSON *o, const char *key, const char *base, const cJSON **out,
		     size_t *n, struct wren_err **err)
{
	const cJSON *v = item(o, key);

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return 0;
	if (!cJSON_IsArray(v))
		return field_err(err, base, key, "must be an array");
	*out = v;
	*n = (size_t)cJSON_GetArraySize(v);
	return 0;
}

static int get_str(const cJSON *o, const char *key, const char *base, bool required, char **out,
		   struct wren_err **err)
{
	const cJSON *v = item(o, key);

	*out = NULL;
	if (v == NULL) {
		if (required)
			return field_err(err, base, key, "must be a string");
		return 0;
	}
	if (!cJSON_IsString(v))
		return field_err(err, base, key, "must be a string");
	*out = xstrdup(v->valuestring);
	return 0;
}

static int get_bool(const cJSON *o, const char *key, const char *base, bool *out, bool *has,
		    struct wren_err **err)
{
	const cJSON *v = item(o, key);

	if (has)
		*has = false;
	if (v == NULL)
		return 0;
	if (!cJSON_IsBool(v))
		return field_err(err, base, key, "must be a boolean");
	*out = cJSON_IsTrue(v);
	if (has)
		*has = true;
	return 0;
}

/* JSON numbers arrive as doubles: values past 2^53 lose precision, and the "unlimited" values Go
 * writes (INT64_MAX, UINT64_MAX) round up past the range. Clamp those back to the maximum rather
 * than reject them; reject fractions and values below the minimum. */
static int range_err(struct wren_err **err, const char *base, const char *key, int64_t min,
		     int64_t max)
{
	_cleanup_free_ char *m = NULL;

	if (max == INT64_MAX)
		m = xasprintf("must be at least %" PRId64, min);
	else
		m = xasprintf("must be between %" PRId64 " and %" PRId64, min, max);
	return field_err(err, base, key, m);
}

static int get_i64(const cJSON *o, const char *key, const char *base, int64_t min, int64_t max,
		   int64_t *out, bool *has, struct wren_err **err)
{
	const cJSON *v = item(o, key);
	double d;

	if (has)
		*has = false;
	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v))
		return field_err(err, base, key, "must be an integer");
	d = v->valuedouble;
	if (!isfinite(d) || d != trunc(d))
		return field_err(err, base, key, "must be an integer");
	if (d >= 9223372036854775808.0 && max == INT64_MAX)
		*out = INT64_MAX;
	else if (d >= 9223372036854775808.0 || d < -9223372036854775808.0)
		return range_err(err, base, key, min, max);
	else
		*out = (int64_t)d;
	if (*out < min || *out > max)
		return range_err(err, base, key, min, max);
	if (has)
		*has = true;
	return 0;
}

static int get_u64(const cJSON *o, const char *key, const char *base, uint64_t max, uint64_t *out,
		   bool *has, struct wren_err **err)
{
	const cJSON *v = item(o, key);
	double d;

	if (has)
		*has = false;
	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v))
		return field_err(err, base, key, "must be a non-negative integer");
	d = v->valuedouble;
	if (!isfinite(d) || d != trunc(d) || d < 0)
		return field_err(err, base, key, "must be a non-negative integer");
	*out = d >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)d;
	if (*out > max)
		return field_err(err, base, key, "out of range");
	if (has)
		*has = true;
	return 0;
}

static int get_u32(const cJSON *o, const char *key, const char *base, uint32_t *out, bool *has,
		   struct wren_err **err)
{
	uint64_t v = 0;
	bool h = false;

	if (get_u64(o, key, base, UINT32_MAX, &v, &h, err) < 0)
		return -1;
	if (h)
		*out = (uint32_t)v;
	if (has)
		*has = h;
	return 0;
}

static void strv_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void strv_free_null(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* An array of strings, NULL-terminated. Absent gives an empty (but allocated) vector when
 * always_alloc, so callers can hand env straight to execve. */
static int get_strv(const cJSON *o, const char *key, const char *base, bool always_alloc,
		    char ***out, size_t *n, struct wren_err **err)
{
	const cJSON *arr, *e;
	size_t cnt, i = 0;
	char **v;

	*out = NULL;
	*n = 0;
	if (get_array(o, key, base, &arr, &cnt, err) < 0)
		return -1;
	if (arr == NULL && !always_alloc)
		return 0;
	v = xzalloc((cnt + 1) * sizeof(*v));
	cJSON_ArrayForEach(e, arr)
	{
		if (!cJSON_IsString(e)) {
			strv_free(v, i);
			return field_err(err, base, key, "must be an array of strings");
		}
		v[i++] = xstrdup(e->valuestring);
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* A JSON object of string values → parallel key/value vectors. */
static int get_string_map(const cJSON *o, const char *key, const char *base, char ***keys,
			  char ***values, size_t *n, struct wren_err **err)
{
	const cJSON *m, *e;
	size_t cnt, i = 0;

	*keys = *values = NULL;
	*n = 0;
	if (get_obj(o, key, base, &m, err) < 0)
		return -1;
	if (m == NULL)
		return 0;
	cnt = (size_t)cJSON_GetArraySize(m);
	*keys = xzalloc((cnt + 1) * sizeof(char *));
	*values = xzalloc((cnt + 1) * sizeof(char *));
	cJSON_ArrayForEach(e, m)
	{
		if (!cJSON_IsString(e)) {
			_cleanup_free_ char *f = xasprintf("%s.%s", key, e->string);
			return field_err(err, base, f, "must be a string");
		}
		(*keys)[i] = xstrdup(e->string);
		(*values)[i] = xstrdup(e->valuestring);
		*n = ++i;
	}
	return 0;
}

static char *elem_base(const char *base, const char *key, size_t i)
{
	return xasprintf("%s%s%s[%zu]", base, *base ? "." : "", key, i);
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

	if (get_array(p, "rlimits", base, &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	proc->rlimits = xzalloc(n * sizeof(*proc->rlimits));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = elem_base(base, "rlimits", i);
		_cleanup_free_ char *type = NULL;
		struct rt_rlimit *rl = &proc->rlimits[i];
		size_t k;

		if (!cJSON_IsObject(e))
			return field_err(err, eb, NULL, "must be an object");
		if (get_str(e, "type", eb, true, &type, err) < 0 ||
		    get_u64(e, "soft", eb, UINT64_MAX, &rl->soft, NULL, err) < 0 ||
		    get_u64(e, "hard", eb, UINT64_MAX, &rl->hard, NULL, err) < 0)
			return -1;
		for (k = 0; k < sizeof(rlimit_names) / sizeof(rlimit_names[0]); k++)
			if (strcmp(type, rlimit_names[k].name) == 0)
				break;
		if (k == sizeof(rlimit_names) / sizeof(rlimit_names[0])) {
			_cleanup_free_ char *m = xasprintf("unknown rlimit type \"%s\"", type);
			return field_err(err, eb, "type", m);
		}
		for (size_t j = 0; j < i; j++)
			if (proc->rlimits[j].resource == rlimit_names[k].resource)
				return field_err(err, eb, "type", "duplicate rlimit type");
		rl->resource = rlimit_names[k].resource;
		proc->n_rlimits = ++i;
	}
	return 0;
}

/* runc ignores capability names it does not know (a newer profile on an older kernel or libcap),
 * and so do we: the capability cannot be granted anyway. */
static int parse_cap_set(const cJSON *caps, const char *key, const char *base, uint64_t *mask,
			 struct wren_err **err)
{
	const cJSON *arr, *e;
	size_t n;

	*mask = 0;
	if (get_array(caps, key, base, &arr, &n, err) < 0)
		return -1;
	cJSON_ArrayForEach(e, arr)
	{
		int c;

		if (!cJSON_IsString(e))
			return field_err(err, base, key, "must be an array of strings");
		c = rt_cap_from_name(e->valuestring);
		if (c >= 0 && c < 64)
			*mask |= 1ULL << c;
	}
	return 0;
}

static int parse_caps(const cJSON *p, const char *base, struct rt_process *proc,
		      struct wren_err **err)
{
	_cleanup_free_ char *cb = xasprintf("%s%scapabilities", base, *base ? "." : "");
	const cJSON *caps;

	if (get_obj(p, "capabilities", base, &caps, err) < 0)
		return -1;
	if (caps == NULL)
		return 0;
	proc->has_caps = true;
	if (parse_cap_set(caps, "bounding", cb, &proc->caps.bounding, err) < 0 ||
	    parse_cap_set(caps, "effective", cb, &proc->caps.effective, err) < 0 ||
	    parse_cap_set(caps, "inheritable", cb, &proc->caps.inheritable, err) < 0 ||
	    parse_cap_set(caps, "permitted", cb, &proc->caps.permitted, err) < 0 ||
	    parse_cap_set(caps, "ambient", cb, &proc->caps.ambient, err) < 0)
		return -1;
	return 0;
}

static int parse_user(const cJSON *p, const char *base, struct rt_process *proc,
		      struct wren_err **err)
{
	_cleanup_free_ char *ub = xasprintf("%s%suser", base, *base ? "." : "");
	const cJSON *u, *arr, *e;
	uint32_t id = 0;
	size_t n, i = 0;

	if (get_obj(p, "user", base, &u, err) < 0)
		return -1;
	if (u == NULL)
		return 0;
	if (get_u32(u, "uid", ub, &id, NULL, err) < 0)
		return -1;
	proc->uid = id;
	id = 0;
	if (get_u32(u, "gid", ub, &id, NULL, err) < 0)
		return -1;
	proc->gid = id;
	if (get_u32(u, "umask", ub, &proc->umask, &proc->has_umask, err) < 0)
		return -1;
	if (get_array(u, "additionalGids", ub, &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	proc->additional_gids = xzalloc(n * sizeof(gid_t));
	cJSON_ArrayForEach(e, arr)
	{
		if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > UINT32_MAX ||
		    e->valuedouble != trunc(e->valuedouble))
			return field_err(err, ub, "additionalGids",
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
	if (get_bool(p, "terminal", base, &proc->terminal, NULL, err) < 0 ||
	    get_obj(p, "consoleSize", base, &cs, err) < 0)
		return -1;
	if (cs != NULL) {
		_cleanup_free_ char *cb = xasprintf("%s%sconsoleSize", base, *base ? "." : "");
		if (get_u32(cs, "width", cb, &proc->console_width, NULL, err) < 0 ||
		    get_u32(cs, "height", cb, &proc->console_height, NULL, err) < 0)
			return -1;
	}
	if (parse_user(p, base, proc, err) < 0)
		return -1;
	if (get_strv(p, "args", base, false, &proc->args, &proc->n_args, NULL) < 0 ||
	    proc->n_args == 0)
		return field_err(err, base, "args", "must be a non-empty array of strings");
	if (get_strv(p, "env", base, true, &proc->env, &proc->n_env, err) < 0)
		return -1;
	if (get_str(p, "cwd", base, false, &proc->cwd, err) < 0)
		return -1;
	if (proc->cwd == NULL || proc->cwd[0] != '/')
		return field_err(err, base, "cwd", "must be an absolute path");
	if (parse_caps(p, base, proc, err) < 0 || parse_rlimits(p, base, proc, err) < 0)
		return -1;
	if (get_bool(p, "noNewPrivileges", base, &proc->no_new_privileges, NULL, err) < 0 ||
	    get_str(p, "apparmorProfile", base, false, &proc->apparmor_profile, err) < 0 ||
	    get_str(p, "selinuxLabel", base, false, &proc->selinux_label, err) < 0 ||
	    get_i64(p, "oomScoreAdj", base, -1000, 1000, &oom, &proc->has_oom_score_adj, err) < 0)
		return -1;
	proc->oom_score_adj = (int)oom;
	return 0;
}

void rt_process_free(struct rt_process *p)
{
	if (p == NULL)
		return;
	free(p->additional_gids);
	strv_free(p->args, p->n_args);
	strv_free(p->env, p->n_env);
	free(p->cwd);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p);
}

/* Parse a whole document, bounded, reporting where the JSON breaks. */
static int parse_json(const char *json, size_t len, const char *what, cJSON **out,
		      struct wren_err **err)
{
	const char *end = NULL;

	if (len > SPEC_MAX_SIZE)
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "%s: larger than %u bytes", what,
				     SPEC_MAX_SIZE);
	*out = cJSON_ParseWithLengthOpts(json, len, &end, false);
	if (*out == NULL)
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "%s: invalid JSON near byte %zu",
				     what, end && end >= json ? (size_t)(end - json) : (size_t)0);
	/* One document and nothing after it, as Go's json.Unmarshal insists. */
	for (size_t i = end && end >= json ? (size_t)(end - json) : len; i < len; i++) {
		if (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r' ||
		    json[i] == '\0')
			continue;
		cJSON_Delete(*out);
		*out = NULL;
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
				     "%s: invalid JSON near byte %zu: data after the document",
				     what, i);
	}
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "%s: must be a JSON object",
				     what);
	}
	return 0;
}

int rt_process_parse(const char *json, size_t len, struct rt_process **out, struct wren_err **err)
{
	_cleanup_cjson_ cJSON *root = NULL;
	struct rt_process *p = NULL;

	*out = NULL;
	if (parse_json(json, len, "process", &root, err) < 0)
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

	if (get_array(root, "mounts", "", &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	s->mounts = xzalloc(n * sizeof(*s->mounts));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = elem_base("", "mounts", i);
		struct rt_mount_spec *m = &s->mounts[i];
		struct rt_mountopt mo;
		char **opts = NULL;
		size_t n_opts = 0;

		s->n_mounts = ++i;
		if (!cJSON_IsObject(e))
			return field_err(err, eb, NULL, "must be an object");
		if (get_str(e, "destination", eb, true, &m->destination, err) < 0)
			return -1;
		if (m->destination[0] != '/')
			return field_err(err, eb, "destination", "must be an absolute path");
		if (get_str(e, "type", eb, false, &m->type, err) < 0 ||
		    get_str(e, "source", eb, false, &m->source, err) < 0 ||
		    get_strv(e, "options", eb, false, &opts, &n_opts, err) < 0)
			return -1;
		if (m->type == NULL)
			m->type = xstrdup("");
		if (m->source == NULL)
			m->source = xstrdup("");
		rt_mountopt_parse((const char *const *)opts, n_opts, &mo);
		strv_free(opts, n_opts);
		m->flags = mo.flags;
		m->clear_flags = mo.clear_flags;
		m->propagation = mo.propagation;
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
		return field_err(err, eb, NULL, "must be an object");
	if (get_str(e, "path", eb, true, &h->path, err) < 0)
		return -1;
	if (h->path[0] != '/')
		return field_err(err, eb, "path", "must be an absolute path");
	if (get_strv(e, "args", eb, false, &h->args, &n, err) < 0 ||
	    get_strv(e, "env", eb, true, &h->env, &n, err) < 0 ||
	    get_i64(e, "timeout", eb, 1, INT_MAX, &timeout, &has_timeout, err) < 0)
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

	if (get_obj(root, "hooks", "", &hooks, err) < 0)
		return -1;
	if (hooks == NULL)
		return 0;
	for (int k = 0; k < RT_HOOK__MAX; k++) {
		_cleanup_free_ char *kb = xasprintf("hooks");
		const cJSON *arr, *e;
		size_t n, i = 0;

		if (get_array(hooks, hook_keys[k], kb, &arr, &n, err) < 0)
			return -1;
		if (arr == NULL)
			continue;
		s->hooks[k] = xzalloc(n * sizeof(struct rt_hook));
		cJSON_ArrayForEach(e, arr)
		{
			_cleanup_free_ char *eb = elem_base(kb, hook_keys[k], i);

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

	if (get_obj(root, "root", "", &r, err) < 0)
		return -1;
	if (r == NULL)
		return field_err(err, "root", NULL, "must be an object");
	if (get_str(r, "path", "root", true, &path, err) < 0)
		return -1;
	if (path[0] == '\0') {
		free(path);
		return field_err(err, "root", "path", "must not be empty");
	}
	if (path[0] != '/' && bundle != NULL) {
		s->root_path = xasprintf("%s/%s", bundle, path);
		free(path);
	} else {
		s->root_path = path;
	}
	return get_bool(r, "readonly", "root", &s->root_readonly, NULL, err);
}

/* ---- linux: namespaces, id maps, devices ------------------------------------------------------
 */

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

	if (get_array(lx, "namespaces", "linux", &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	s->namespaces = xzalloc(n * sizeof(*s->namespaces));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = elem_base("linux", "namespaces", i);
		_cleanup_free_ char *type = NULL;
		struct rt_namespace *ns = &s->namespaces[i];
		int t;

		s->n_namespaces = ++i;
		if (!cJSON_IsObject(e))
			return field_err(err, eb, NULL, "must be an object");
		if (get_str(e, "type", eb, true, &type, err) < 0 ||
		    get_str(e, "path", eb, false, &ns->path, err) < 0)
			return -1;
		for (t = 0; t < RT_NS__MAX; t++)
			if (strcmp(type, ns_names[t]) == 0)
				break;
		if (t == RT_NS__MAX) {
			_cleanup_free_ char *m = xasprintf("unknown namespace type \"%s\"", type);
			return field_err(err, eb, "type", m);
		}
		if (seen[t]) {
			_cleanup_free_ char *m = xasprintf("duplicate namespace type \"%s\"", type);
			return field_err(err, eb, "type", m);
		}
		seen[t] = true;
		ns->type = (enum rt_ns_type)t;
		if (ns->path != NULL && ns->path[0] == '\0') {
			free(ns->path);
			ns->path = NULL;
		}
		if (ns->path != NULL && ns->path[0] != '/')
			return field_err(err, eb, "path", "must be an absolute path");
	}
	return 0;
}

static int parse_id_maps(const cJSON *lx, const char *key, struct rt_id_map **out, size_t *n_out,
			 struct wren_err **err)
{
	const cJSON *arr, *e;
	size_t n, i = 0;

	if (get_array(lx, key, "linux", &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	*out = xzalloc(n * sizeof(**out));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = elem_base("linux", key, i);
		struct rt_id_map *m = &(*out)[i];

		*n_out = ++i;
		if (!cJSON_IsObject(e))
			return field_err(err, eb, NULL, "must be an object");
		if (get_u32(e, "containerID", eb, &m->container_id, NULL, err) < 0 ||
		    get_u32(e, "hostID", eb, &m->host_id, NULL, err) < 0 ||
		    get_u32(e, "size", eb, &m->size, NULL, err) < 0)
			return -1;
		if (m->size == 0)
			return field_err(err, eb, "size", "must be greater than zero");
	}
	return 0;
}

static int get_type_char(const cJSON *e, const char *eb, const char *allowed, char dflt, char *out,
			 struct wren_err **err)
{
	_cleanup_free_ char *t = NULL;

	if (get_str(e, "type", eb, dflt == 0, &t, err) < 0)
		return -1;
	if (t == NULL) {
		*out = dflt;
		return 0;
	}
	if (strlen(t) != 1 || strchr(allowed, t[0]) == NULL) {
		_cleanup_free_ char *m =
		    xasprintf("must be one of \"%s\" (got \"%s\")", allowed, t);
		return field_err(err, eb, "type", m);
	}
	*out = t[0];
	return 0;
}

static int parse_devices(const cJSON *lx, struct rt_spec *s, struct wren_err **err)
{
	const cJSON *arr, *e;
	size_t n, i = 0;

	if (get_array(lx, "devices", "linux", &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	s->devices = xzalloc(n * sizeof(*s->devices));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = elem_base("linux", "devices", i);
		struct rt_device *d = &s->devices[i];
		uint32_t id = 0;

		s->n_devices = ++i;
		if (!cJSON_IsObject(e))
			return field_err(err, eb, NULL, "must be an object");
		if (get_str(e, "path", eb, true, &d->path, err) < 0 ||
		    get_type_char(e, eb, "cbup", 0, &d->type, err) < 0)
			return -1;
		if (d->path[0] != '/')
			return field_err(err, eb, "path", "must be an absolute path");
		if (get_i64(e, "major", eb, 0, INT64_MAX, &d->major, NULL, err) < 0 ||
		    get_i64(e, "minor", eb, 0, INT64_MAX, &d->minor, NULL, err) < 0 ||
		    get_u32(e, "fileMode", eb, &d->file_mode, &d->has_file_mode, err) < 0 ||
		    get_u32(e, "uid", eb, &id, &d->has_uid, err) < 0)
			return -1;
		d->uid = id;
		if (get_u32(e, "gid", eb, &id, &d->has_gid, err) < 0)
			return -1;
		d->gid = id;
	}
	return 0;
}

/* ---- linux.resources ----------------------------------------------------------------------------
 */

static int parse_device_rules(const cJSON *r, const char *base, struct rt_resources *res,
			      struct wren_err **err)
{
	const cJSON *arr, *e;
	size_t n, i = 0;

	if (get_array(r, "devices", base, &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	res->devices = xzalloc(n * sizeof(*res->devices));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = elem_base(base, "devices", i);
		struct rt_device_rule *d = &res->devices[i];
		bool has;

		res->n_devices = ++i;
		d->major = d->minor = -1;
		if (!cJSON_IsObject(e))
			return field_err(err, eb, NULL, "must be an object");
		if (get_bool(e, "allow", eb, &d->allow, &has, err) < 0)
			return -1;
		if (!has)
			return field_err(err, eb, "allow", "must be a boolean");
		if (get_type_char(e, eb, "acb", 'a', &d->type, err) < 0 ||
		    get_i64(e, "major", eb, -1, INT64_MAX, &d->major, NULL, err) < 0 ||
		    get_i64(e, "minor", eb, -1, INT64_MAX, &d->minor, NULL, err) < 0 ||
		    get_str(e, "access", eb, false, &d->access, err) < 0)
			return -1;
		if (d->access == NULL || d->access[0] == '\0') {
			free(d->access);
			d->access = xstrdup("rwm");
		}
		if (strspn(d->access, "rwm") != strlen(d->access))
			return field_err(err, eb, "access", "must be a combination of r, w and m");
	}
	return 0;
}

static int parse_memory(const cJSON *r, const char *base, struct rt_resources *res,
			struct wren_err **err)
{
	_cleanup_free_ char *mb = xasprintf("%s.memory", base);
	const cJSON *m;
	int64_t swappiness = -1;
	bool has_swappiness = false;

	if (get_obj(r, "memory", base, &m, err) < 0)
		return -1;
	if (m == NULL)
		return 0;
	if (get_i64(m, "limit", mb, -1, INT64_MAX, &res->memory_limit, &res->has_memory_limit,
		    err) < 0 ||
	    get_i64(m, "reservation", mb, -1, INT64_MAX, &res->memory_reservation,
		    &res->has_memory_reservation, err) < 0 ||
	    get_i64(m, "swap", mb, -1, INT64_MAX, &res->memory_swap, &res->has_memory_swap, err) <
		0 ||
	    get_i64(m, "kernel", mb, -1, INT64_MAX, &res->memory_kernel, &res->has_memory_kernel,
		    err) < 0 ||
	    get_bool(m, "disableOOMKiller", mb, &res->disable_oom_killer,
		     &res->has_disable_oom_killer, err) < 0)
		return -1;
	/* Docker sends -1 for "leave swappiness alone"; anything else must be 0..100. */
	if (get_i64(m, "swappiness", mb, -1, INT64_MAX, &swappiness, &has_swappiness, err) < 0)
		return -1;
	if (has_swappiness && swappiness > 100)
		return field_err(err, mb, "swappiness", "must be between 0 and 100");
	if (has_swappiness && swappiness >= 0) {
		res->has_memory_swappiness = true;
		res->memory_swappiness = (uint64_t)swappiness;
	}
	return 0;
}

static int parse_cpu(const cJSON *r, const char *base, struct rt_resources *res,
		     struct wren_err **err)
{
	_cleanup_free_ char *cb = xasprintf("%s.cpu", base);
	const cJSON *c;

	if (get_obj(r, "cpu", base, &c, err) < 0)
		return -1;
	if (c == NULL)
		return 0;
	if (get_u64(c, "shares", cb, UINT64_MAX, &res->cpu_shares, &res->has_cpu_shares, err) < 0 ||
	    get_i64(c, "quota", cb, -1, INT64_MAX, &res->cpu_quota, &res->has_cpu_quota, err) < 0 ||
	    get_u64(c, "period", cb, UINT64_MAX, &res->cpu_period, &res->has_cpu_period, err) < 0 ||
	    get_i64(c, "realtimeRuntime", cb, -1, INT64_MAX, &res->cpu_realtime_runtime,
		    &res->has_cpu_realtime_runtime, err) < 0 ||
	    get_u64(c, "realtimePeriod", cb, UINT64_MAX, &res->cpu_realtime_period,
		    &res->has_cpu_realtime_period, err) < 0 ||
	    get_i64(c, "idle", cb, INT64_MIN, INT64_MAX, &res->cpu_idle, &res->has_cpu_idle, err) <
		0 ||
	    get_str(c, "cpus", cb, false, &res->cpu_cpus, err) < 0 ||
	    get_str(c, "mems", cb, false, &res->cpu_mems, err) < 0)
		return -1;
	return 0;
}

static int parse_hugepages(const cJSON *r, const char *base, struct rt_resources *res,
			   struct wren_err **err)
{
	const cJSON *arr, *e;
	size_t n, i = 0;

	if (get_array(r, "hugepageLimits", base, &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	res->hugepage_limits = xzalloc(n * sizeof(*res->hugepage_limits));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = elem_base(base, "hugepageLimits", i);
		char *ps;

		res->n_hugepage_limits = ++i;
		if (!cJSON_IsObject(e))
			return field_err(err, eb, NULL, "must be an object");
		if (get_str(e, "pageSize", eb, true, &res->hugepage_limits[i - 1].page_size, err) <
			0 ||
		    get_u64(e, "limit", eb, UINT64_MAX, &res->hugepage_limits[i - 1].limit, NULL,
			    err) < 0)
			return -1;
		/* It becomes part of a file name: hugetlb.<pageSize>.limit_in_bytes. */
		ps = res->hugepage_limits[i - 1].page_size;
		if (ps[0] == '\0' || strchr(ps, '/') != NULL || strchr(ps, '.') != NULL)
			return field_err(err, eb, "pageSize", "must be a page size like \"2MB\"");
	}
	return 0;
}

static int parse_resources_obj(const cJSON *r, const char *base, struct rt_resources *res,
			       struct wren_err **err)
{
	const cJSON *o;
	int64_t pids = 0;

	if (parse_memory(r, base, res, err) < 0 || parse_cpu(r, base, res, err) < 0)
		return -1;
	if (get_obj(r, "pids", base, &o, err) < 0)
		return -1;
	if (o != NULL) {
		_cleanup_free_ char *pb = xasprintf("%s.pids", base);
		if (get_i64(o, "limit", pb, INT64_MIN, INT64_MAX, &pids, &res->has_pids_limit,
			    err) < 0)
			return -1;
		res->pids_limit = pids;
	}
	if (get_obj(r, "blockIO", base, &o, err) < 0)
		return -1;
	if (o != NULL) {
		_cleanup_free_ char *bb = xasprintf("%s.blockIO", base);
		uint64_t w = 0;
		if (get_u64(o, "weight", bb, UINT16_MAX, &w, &res->has_blkio_weight, err) < 0)
			return -1;
		res->blkio_weight = (uint16_t)w;
	}
	if (parse_device_rules(r, base, res, err) < 0 || parse_hugepages(r, base, res, err) < 0 ||
	    get_string_map(r, "unified", base, &res->unified_keys, &res->unified_values,
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
	strv_free(r->unified_keys, r->n_unified);
	strv_free(r->unified_values, r->n_unified);
	memset(r, 0, sizeof(*r));
}

int rt_resources_parse(const char *json, size_t len, struct rt_resources *out,
		       struct wren_err **err)
{
	_cleanup_cjson_ cJSON *root = NULL;

	memset(out, 0, sizeof(*out));
	if (parse_json(json, len, "resources", &root, err) < 0)
		return -1;
	if (parse_resources_obj(root, "resources", out, err) < 0) {
		rt_resources_clear(out);
		return -1;
	}
	return 0;
}

/* ---- linux.seccomp ------------------------------------------------------------------------------
 */

static const struct {
	const char *name;
	enum rt_seccomp_action action;
} scmp_actions[] = {
    {"SCMP_ACT_KILL", RT_SCMP_KILL},
    {"SCMP_ACT_KILL_PROCESS", RT_SCMP_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", RT_SCMP_KILL_THREAD},
    {"SCMP_ACT_TRAP", RT_SCMP_TRAP},
    {"SCMP_ACT_ERRNO", RT_SCMP_ERRNO},
    {"SCMP_ACT_TRACE", RT_SCMP_TRACE},
    {"SCMP_ACT_ALLOW", RT_SCMP_ALLOW},
    {"SCMP_ACT_LOG", RT_SCMP_LOG},
    {"SCMP_ACT_NOTIFY", RT_SCMP_NOTIFY},
};

static const struct {
	const char *name;
	int op;
} scmp_ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const char *const scmp_flags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

static int get_scmp_action(const cJSON *o, const char *key, const char *eb,
			   enum rt_seccomp_action *out, struct wren_err **err)
{
	_cleanup_free_ char *a = NULL;

	if (get_str(o, key, eb, true, &a, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(scmp_actions) / sizeof(scmp_actions[0]); i++) {
		if (strcmp(a, scmp_actions[i].name) == 0) {
			*out = scmp_actions[i].action;
			return 0;
		}
	}
	_cleanup_free_ char *m = xasprintf("unknown seccomp action \"%s\"", a);
	return field_err(err, eb, key, m);
}

static int parse_scmp_args(const cJSON *e, const char *eb, struct rt_seccomp_rule *rule,
			   struct wren_err **err)
{
	const cJSON *arr, *a;
	size_t n, i = 0;

	if (get_array(e, "args", eb, &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	rule->args = xzalloc(n * sizeof(*rule->args));
	cJSON_ArrayForEach(a, arr)
	{
		_cleanup_free_ char *ab = elem_base(eb, "args", i);
		_cleanup_free_ char *op = NULL;
		struct rt_seccomp_arg *arg = &rule->args[i];
		uint64_t idx = 0;
		size_t k;

		rule->n_args = ++i;
		if (!cJSON_IsObject(a))
			return field_err(err, ab, NULL, "must be an object");
		if (get_u64(a, "index", ab, 5, &idx, NULL, err) < 0 ||
		    get_u64(a, "value", ab, UINT64_MAX, &arg->value, NULL, err) < 0 ||
		    get_u64(a, "valueTwo", ab, UINT64_MAX, &arg->value_two, NULL, err) < 0 ||
		    get_str(a, "op", ab, true, &op, err) < 0)
			return -1;
		arg->index = (unsigned int)idx;
		for (k = 0; k < sizeof(scmp_ops) / sizeof(scmp_ops[0]); k++)
			if (strcmp(op, scmp_ops[k].name) == 0)
				break;
		if (k == sizeof(scmp_ops) / sizeof(scmp_ops[0])) {
			_cleanup_free_ char *m = xasprintf("unknown seccomp operator \"%s\"", op);
			return field_err(err, ab, "op", m);
		}
		arg->op = scmp_ops[k].op;
	}
	return 0;
}

static int parse_scmp_rules(const cJSON *sc, const char *base, struct rt_seccomp *out,
			    struct wren_err **err)
{
	const cJSON *arr, *e;
	size_t n, i = 0;

	if (get_array(sc, "syscalls", base, &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	out->rules = xzalloc(n * sizeof(*out->rules));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = elem_base(base, "syscalls", i);
		struct rt_seccomp_rule *r = &out->rules[i];

		out->n_rules = ++i;
		if (!cJSON_IsObject(e))
			return field_err(err, eb, NULL, "must be an object");
		if (get_strv(e, "names", eb, true, &r->names, &r->n_names, err) < 0 ||
		    get_scmp_action(e, "action", eb, &r->action, err) < 0 ||
		    get_u32(e, "errnoRet", eb, &r->errno_ret, &r->has_errno_ret, err) < 0 ||
		    parse_scmp_args(e, eb, r, err) < 0)
			return -1;
	}
	return 0;
}

/* "SCMP_ARCH_X86_64" → libseccomp's token through its own name table ("x86_64"). Architectures
 * this libseccomp does not know are skipped: shared profiles list every arch Docker supports. */
static int parse_scmp_arches(const cJSON *sc, const char *base, struct rt_seccomp *out,
			     struct wren_err **err)
{
	char **v = NULL;
	size_t n = 0;

	if (get_strv(sc, "architectures", base, false, &v, &n, err) < 0)
		return -1;
	out->architectures = xzalloc((n + 1) * sizeof(uint32_t));
	for (size_t i = 0; i < n; i++) {
		char lower[64];
		const char *a = v[i];
		size_t k;
		uint32_t tok;

		if (strncmp(a, "SCMP_ARCH_", 10) == 0)
			a += 10;
		for (k = 0; a[k] && k < sizeof(lower) - 1; k++)
			lower[k] = (char)(a[k] >= 'A' && a[k] <= 'Z' ? a[k] - 'A' + 'a' : a[k]);
		lower[k] = '\0';
		tok = seccomp_arch_resolve_name(lower);
		if (tok != 0)
			out->architectures[out->n_architectures++] = tok;
	}
	strv_free(v, n);
	return 0;
}

static int parse_seccomp(const cJSON *lx, struct rt_spec *s, struct wren_err **err)
{
	const char *base = "linux.seccomp";
	struct rt_seccomp *out = &s->seccomp;
	const cJSON *sc;

	if (get_obj(lx, "seccomp", "linux", &sc, err) < 0)
		return -1;
	if (sc == NULL)
		return 0;
	s->has_seccomp = true;
	if (get_scmp_action(sc, "defaultAction", base, &out->default_action, err) < 0 ||
	    get_u32(sc, "defaultErrnoRet", base, &out->default_errno_ret,
		    &out->has_default_errno_ret, err) < 0 ||
	    parse_scmp_arches(sc, base, out, err) < 0 ||
	    get_strv(sc, "flags", base, false, &out->flags, &out->n_flags, err) < 0)
		return -1;
	for (size_t i = 0; i < out->n_flags; i++) {
		size_t k;

		for (k = 0; k < sizeof(scmp_flags) / sizeof(scmp_flags[0]); k++)
			if (strcmp(out->flags[i], scmp_flags[k]) == 0)
				break;
		if (k == sizeof(scmp_flags) / sizeof(scmp_flags[0])) {
			_cleanup_free_ char *f = xasprintf("flags[%zu]", i);
			_cleanup_free_ char *m =
			    xasprintf("unknown seccomp flag \"%s\"", out->flags[i]);
			return field_err(err, base, f, m);
		}
	}
	return parse_scmp_rules(sc, base, out, err);
}

static void seccomp_clear(struct rt_seccomp *sc)
{
	free(sc->architectures);
	strv_free(sc->flags, sc->n_flags);
	for (size_t i = 0; i < sc->n_rules; i++) {
		strv_free(sc->rules[i].names, sc->rules[i].n_names);
		free(sc->rules[i].args);
	}
	free(sc->rules);
}

/* ---- lx, and the document ------------------------------------------------------------------- */

static int parse_linux(const cJSON *root, struct rt_spec *s, struct wren_err **err)
{
	const cJSON *lx, *r;
	char **sk = NULL, **sv = NULL;
	size_t n = 0;

	if (get_obj(root, "linux", "", &lx, err) < 0)
		return -1;
	if (lx == NULL)
		return 0;
	if (parse_namespaces(lx, s, err) < 0 ||
	    parse_id_maps(lx, "uidMappings", &s->uid_mappings, &s->n_uid_mappings, err) < 0 ||
	    parse_id_maps(lx, "gidMappings", &s->gid_mappings, &s->n_gid_mappings, err) < 0 ||
	    parse_devices(lx, s, err) < 0 ||
	    get_str(lx, "cgroupsPath", "linux", false, &s->cgroups_path, err) < 0 ||
	    get_obj(lx, "resources", "linux", &r, err) < 0)
		return -1;
	if (s->cgroups_path != NULL && s->cgroups_path[0] == '\0') {
		free(s->cgroups_path);
		s->cgroups_path = NULL;
	}
	if (r != NULL) {
		s->has_resources = true;
		if (parse_resources_obj(r, "linux.resources", &s->resources, err) < 0)
			return -1;
	}
	if (get_string_map(lx, "sysctl", "linux", &sk, &sv, &n, err) < 0) {
		strv_free(sk, n);
		strv_free(sv, n);
		return -1;
	}
	s->sysctls = xzalloc((n + 1) * sizeof(*s->sysctls));
	for (size_t i = 0; i < n; i++)
		s->sysctls[i] = (struct rt_sysctl){.key = sk[i], .value = sv[i]};
	s->n_sysctls = n;
	free(sk);
	free(sv);
	if (parse_seccomp(lx, s, err) < 0 ||
	    get_str(lx, "rootfsPropagation", "linux", false, &s->rootfs_propagation, err) < 0 ||
	    get_strv(lx, "maskedPaths", "linux", false, &s->masked_paths, &s->n_masked_paths, err) <
		0 ||
	    get_strv(lx, "readonlyPaths", "linux", false, &s->readonly_paths, &s->n_readonly_paths,
		     err) < 0 ||
	    get_str(lx, "mountLabel", "linux", false, &s->mount_label, err) < 0)
		return -1;
	return 0;
}

static int parse_spec_obj(const cJSON *root, const char *bundle, struct rt_spec *s,
			  struct wren_err **err)
{
	const cJSON *p;

	if (get_str(root, "ociVersion", "", false, &s->oci_version, err) < 0 ||
	    parse_root(root, bundle, s, err) < 0 ||
	    get_str(root, "hostname", "", false, &s->hostname, err) < 0 ||
	    get_str(root, "domainname", "", false, &s->domainname, err) < 0 ||
	    get_obj(root, "process", "", &p, err) < 0)
		return -1;
	if (p != NULL && parse_process_obj(p, "process", &s->process, err) < 0)
		return -1;
	if (parse_mounts(root, s, err) < 0 || parse_hooks(root, s, err) < 0 ||
	    get_string_map(root, "annotations", "", &s->annotation_keys, &s->annotation_values,
			   &s->n_annotations, err) < 0 ||
	    parse_linux(root, s, err) < 0)
		return -1;
	return 0;
}

int rt_spec_parse(const char *json, size_t len, const char *bundle, struct rt_spec **out,
		  struct wren_err **err)
{
	_cleanup_cjson_ cJSON *root = NULL;
	struct rt_spec *s;

	*out = NULL;
	if (parse_json(json, len, "config.json", &root, err) < 0)
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
	_cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
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
	strv_free(s->annotation_keys, s->n_annotations);
	strv_free(s->annotation_values, s->n_annotations);
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
	seccomp_clear(&s->seccomp);
	free(s->rootfs_propagation);
	strv_free(s->masked_paths, s->n_masked_paths);
	strv_free(s->readonly_paths, s->n_readonly_paths);
	free(s->mount_label);
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
