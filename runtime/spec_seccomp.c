/* linux.seccomp: default action, architectures, flags and syscall rules, with action, operator
 * and architecture names mapped to libseccomp's values at parse time. Separate because it is the
 * one part of the spec tied to libseccomp's name tables, and a self-contained profile format
 * that runtime/seccomp.c turns into a filter. */
#include <cjson/cJSON.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>

#include "runtime/spec.h"
#include "runtime/spec_json.h"
#include "runtime/util.h"

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

	if (spec_get_str(o, key, eb, true, &a, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(scmp_actions) / sizeof(scmp_actions[0]); i++) {
		if (strcmp(a, scmp_actions[i].name) == 0) {
			*out = scmp_actions[i].action;
			return 0;
		}
	}
	_cleanup_free_ char *m = xasprintf("unknown seccomp action \"%s\"", a);
	return spec_field_err(err, eb, key, m);
}

static int parse_scmp_args(const cJSON *e, const char *eb, struct rt_seccomp_rule *rule,
			   struct wren_err **err)
{
	const cJSON *arr, *a;
	size_t n, i = 0;

	if (spec_get_array(e, "args", eb, &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	rule->args = xzalloc(n * sizeof(*rule->args));
	cJSON_ArrayForEach(a, arr)
	{
		_cleanup_free_ char *ab = spec_elem_base(eb, "args", i);
		_cleanup_free_ char *op = NULL;
		struct rt_seccomp_arg *arg = &rule->args[i];
		uint64_t idx = 0;
		size_t k;

		rule->n_args = ++i;
		if (!cJSON_IsObject(a))
			return spec_field_err(err, ab, NULL, "must be an object");
		if (spec_get_u64(a, "index", ab, 5, &idx, NULL, err) < 0 ||
		    spec_get_u64(a, "value", ab, UINT64_MAX, &arg->value, NULL, err) < 0 ||
		    spec_get_u64(a, "valueTwo", ab, UINT64_MAX, &arg->value_two, NULL, err) < 0 ||
		    spec_get_str(a, "op", ab, true, &op, err) < 0)
			return -1;
		arg->index = (unsigned int)idx;
		for (k = 0; k < sizeof(scmp_ops) / sizeof(scmp_ops[0]); k++)
			if (strcmp(op, scmp_ops[k].name) == 0)
				break;
		if (k == sizeof(scmp_ops) / sizeof(scmp_ops[0])) {
			_cleanup_free_ char *m = xasprintf("unknown seccomp operator \"%s\"", op);
			return spec_field_err(err, ab, "op", m);
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

	if (spec_get_array(sc, "syscalls", base, &arr, &n, err) < 0)
		return -1;
	if (arr == NULL)
		return 0;
	out->rules = xzalloc(n * sizeof(*out->rules));
	cJSON_ArrayForEach(e, arr)
	{
		_cleanup_free_ char *eb = spec_elem_base(base, "syscalls", i);
		struct rt_seccomp_rule *r = &out->rules[i];

		out->n_rules = ++i;
		if (!cJSON_IsObject(e))
			return spec_field_err(err, eb, NULL, "must be an object");
		if (spec_get_strv(e, "names", eb, true, &r->names, &r->n_names, err) < 0 ||
		    get_scmp_action(e, "action", eb, &r->action, err) < 0 ||
		    spec_get_u32(e, "errnoRet", eb, &r->errno_ret, &r->has_errno_ret, err) < 0 ||
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

	if (spec_get_strv(sc, "architectures", base, false, &v, &n, err) < 0)
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
	spec_strv_free(v, n);
	return 0;
}

int spec_parse_seccomp(const cJSON *lx, struct rt_spec *s, struct wren_err **err)
{
	const char *base = "linux.seccomp";
	struct rt_seccomp *out = &s->seccomp;
	const cJSON *sc;

	if (spec_get_obj(lx, "seccomp", "linux", &sc, err) < 0)
		return -1;
	if (sc == NULL)
		return 0;
	s->has_seccomp = true;
	if (get_scmp_action(sc, "defaultAction", base, &out->default_action, err) < 0 ||
	    spec_get_u32(sc, "defaultErrnoRet", base, &out->default_errno_ret,
			 &out->has_default_errno_ret, err) < 0 ||
	    parse_scmp_arches(sc, base, out, err) < 0 ||
	    spec_get_strv(sc, "flags", base, false, &out->flags, &out->n_flags, err) < 0)
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
			return spec_field_err(err, base, f, m);
		}
	}
	return parse_scmp_rules(sc, base, out, err);
}

void spec_seccomp_clear(struct rt_seccomp *sc)
{
	free(sc->architectures);
	spec_strv_free(sc->flags, sc->n_flags);
	for (size_t i = 0; i < sc->n_rules; i++) {
		spec_strv_free(sc->rules[i].names, sc->rules[i].n_names);
		free(sc->rules[i].args);
	}
	free(sc->rules);
}
