/* The bounded document parse and the field getters every part of the spec parser reads
 * config.json through. Each getter checks a value's JSON type and range and, when it is wrong,
 * fails with an error that names the field ("linux.resources.memory.limit: must be an integer"),
 * so the section parsers (spec.c, spec_linux.c, spec_resources.c, spec_seccomp.c) state only what
 * a field must be. Separate because all of those files share them. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "runtime/spec_json.h"
#include "runtime/util.h"

/* ---- field access: each helper names the field ("<base>.<key>") in its error ---------------- */

int spec_field_err(struct wren_err **err, const char *base, const char *key, const char *what)
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

int spec_get_obj(const cJSON *o, const char *key, const char *base, const cJSON **out,
		 struct wren_err **err)
{
	const cJSON *v = item(o, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!cJSON_IsObject(v))
		return spec_field_err(err, base, key, "must be an object");
	*out = v;
	return 0;
}

int spec_get_array(const cJSON *o, const char *key, const char *base, const cJSON **out, size_t *n,
		   struct wren_err **err)
{
	const cJSON *v = item(o, key);

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return 0;
	if (!cJSON_IsArray(v))
		return spec_field_err(err, base, key, "must be an array");
	*out = v;
	*n = (size_t)cJSON_GetArraySize(v);
	return 0;
}

int spec_get_str(const cJSON *o, const char *key, const char *base, bool required, char **out,
		 struct wren_err **err)
{
	const cJSON *v = item(o, key);

	*out = NULL;
	if (v == NULL) {
		if (required)
			return spec_field_err(err, base, key, "must be a string");
		return 0;
	}
	if (!cJSON_IsString(v))
		return spec_field_err(err, base, key, "must be a string");
	*out = xstrdup(v->valuestring);
	return 0;
}

int spec_get_bool(const cJSON *o, const char *key, const char *base, bool *out, bool *has,
		  struct wren_err **err)
{
	const cJSON *v = item(o, key);

	if (has)
		*has = false;
	if (v == NULL)
		return 0;
	if (!cJSON_IsBool(v))
		return spec_field_err(err, base, key, "must be a boolean");
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
	return spec_field_err(err, base, key, m);
}

int spec_get_i64(const cJSON *o, const char *key, const char *base, int64_t min, int64_t max,
		 int64_t *out, bool *has, struct wren_err **err)
{
	const cJSON *v = item(o, key);
	double d;

	if (has)
		*has = false;
	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v))
		return spec_field_err(err, base, key, "must be an integer");
	d = v->valuedouble;
	if (!isfinite(d) || d != trunc(d))
		return spec_field_err(err, base, key, "must be an integer");
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

int spec_get_u64(const cJSON *o, const char *key, const char *base, uint64_t max, uint64_t *out,
		 bool *has, struct wren_err **err)
{
	const cJSON *v = item(o, key);
	double d;

	if (has)
		*has = false;
	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v))
		return spec_field_err(err, base, key, "must be a non-negative integer");
	d = v->valuedouble;
	if (!isfinite(d) || d != trunc(d) || d < 0)
		return spec_field_err(err, base, key, "must be a non-negative integer");
	*out = d >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)d;
	if (*out > max)
		return spec_field_err(err, base, key, "out of range");
	if (has)
		*has = true;
	return 0;
}

int spec_get_u32(const cJSON *o, const char *key, const char *base, uint32_t *out, bool *has,
		 struct wren_err **err)
{
	uint64_t v = 0;
	bool h = false;

	if (spec_get_u64(o, key, base, UINT32_MAX, &v, &h, err) < 0)
		return -1;
	if (h)
		*out = (uint32_t)v;
	if (has)
		*has = h;
	return 0;
}

void spec_strv_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* An array of strings, NULL-terminated. Absent gives an empty (but allocated) vector when
 * always_alloc, so callers can hand env straight to execve. */
int spec_get_strv(const cJSON *o, const char *key, const char *base, bool always_alloc, char ***out,
		  size_t *n, struct wren_err **err)
{
	const cJSON *arr, *e;
	size_t cnt, i = 0;
	char **v;

	*out = NULL;
	*n = 0;
	if (spec_get_array(o, key, base, &arr, &cnt, err) < 0)
		return -1;
	if (arr == NULL && !always_alloc)
		return 0;
	v = xzalloc((cnt + 1) * sizeof(*v));
	cJSON_ArrayForEach(e, arr)
	{
		if (!cJSON_IsString(e)) {
			spec_strv_free(v, i);
			return spec_field_err(err, base, key, "must be an array of strings");
		}
		v[i++] = xstrdup(e->valuestring);
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* A JSON object of string values → parallel key/value vectors. */
int spec_get_string_map(const cJSON *o, const char *key, const char *base, char ***keys,
			char ***values, size_t *n, struct wren_err **err)
{
	const cJSON *m, *e;
	size_t cnt, i = 0;

	*keys = *values = NULL;
	*n = 0;
	if (spec_get_obj(o, key, base, &m, err) < 0)
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
			return spec_field_err(err, base, f, "must be a string");
		}
		(*keys)[i] = xstrdup(e->string);
		(*values)[i] = xstrdup(e->valuestring);
		*n = ++i;
	}
	return 0;
}

/* Made for every array element, whether or not an error needs it: no printf. */
char *spec_elem_base(const char *base, const char *key, size_t i)
{
	char idx[24], *p = idx + sizeof(idx); /* "[" 20 digits "]" NUL */

	*--p = '\0';
	*--p = ']';
	do
		*--p = (char)('0' + i % 10);
	while ((i /= 10) != 0);
	*--p = '[';
	return xstrjoin(base, *base ? "." : "", key, p, NULL);
}

int spec_get_type_char(const cJSON *e, const char *eb, const char *allowed, char dflt, char *out,
		       struct wren_err **err)
{
	_cleanup_free_ char *t = NULL;

	if (spec_get_str(e, "type", eb, dflt == 0, &t, err) < 0)
		return -1;
	if (t == NULL) {
		*out = dflt;
		return 0;
	}
	if (strlen(t) != 1 || strchr(allowed, t[0]) == NULL) {
		_cleanup_free_ char *m =
		    xasprintf("must be one of \"%s\" (got \"%s\")", allowed, t);
		return spec_field_err(err, eb, "type", m);
	}
	*out = t[0];
	return 0;
}

/* Parse a whole document, bounded, reporting where the JSON breaks. */
int spec_parse_json(struct spec_arena *a, const char *json, size_t len, const char *what,
		    cJSON **out, struct wren_err **err)
{
	const char *end = NULL;

	if (len > SPEC_MAX_SIZE)
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "%s: larger than %u bytes", what,
				     SPEC_MAX_SIZE);
	*out = spec_arena_parse(a, json, len, &end);
	if (*out == NULL)
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "%s: invalid JSON near byte %zu",
				     what, end && end >= json ? (size_t)(end - json) : (size_t)0);
	/* One document and nothing after it, as Go's json.Unmarshal insists. */
	for (size_t i = end && end >= json ? (size_t)(end - json) : len; i < len; i++) {
		if (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r' ||
		    json[i] == '\0')
			continue;
		*out = NULL; /* the arena holds it */
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
				     "%s: invalid JSON near byte %zu: data after the document",
				     what, i);
	}
	if (!cJSON_IsObject(*out)) {
		*out = NULL; /* the arena holds it */
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "%s: must be a JSON object",
				     what);
	}
	return 0;
}
