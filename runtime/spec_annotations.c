/* Reading one annotation of config.json without parsing the spec. The shim's start action needs
 * only the grouping annotations; building the whole cJSON tree of a spec (and freeing it, node by
 * node) was most of that process's own instructions. This scans the top-level object, skipping
 * values by their brackets and strings, and hands only the "annotations" object to cJSON. */
#include <errno.h>
#include <string.h>

#include <cJSON.h>

#include "runtime/spec.h"
#include "runtime/spec_json.h"
#include "runtime/util.h"

/* Whitespace as cJSON reads it, which the full parse of the spec uses: every byte up to ' ',
 * control characters and NUL included. Any narrower set would let the scan and the parse see
 * different documents. */
static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (unsigned char)*p <= ' ')
		p++;
	return p;
}

/* p at the opening quote: the byte after the closing quote, or NULL. */
static const char *skip_string(const char *p, const char *end, bool *escaped)
{
	for (p++; p < end; p++) {
		if (*p == '\\') {
			*escaped = true;
			p++;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* p at the first byte of a value: the byte after it, or NULL. Scalars end at a delimiter;
 * containers at their matching bracket (strings inside are skipped whole). */
static const char *skip_value(const char *p, const char *end)
{
	bool esc = false;
	int depth = 0;

	if (p < end && *p == '"')
		return skip_string(p, end, &esc);
	if (p < end && *p != '{' && *p != '[') {
		while (p < end && (unsigned char)*p > ' ' && *p != ',' && *p != '}' && *p != ']')
			p++;
		return p;
	}
	while (p < end) {
		if (*p == '"') {
			p = skip_string(p, end, &esc);
			if (!p)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

/* The text of the top-level "annotations" value: 1 found, 0 absent, -1 when the scan cannot
 * tell (bad JSON, or a key with an escape or a NUL byte, which might read as "annotations" once
 * cJSON has decoded it into a C string). */
static int find_annotations(const char *json, size_t len, const char **v, const char **vend)
{
	const char *p = json, *end = json + len;

	p = skip_ws(p, end);
	if (p == end || *p++ != '{')
		return -1;
	for (;;) {
		const char *k, *ke;
		bool esc = false;

		p = skip_ws(p, end);
		if (p < end && *p == '}')
			return 0;
		if (p == end || *p != '"')
			return -1;
		k = p + 1;
		p = skip_string(p, end, &esc);
		if (!p || esc)
			return -1;
		ke = p - 1;
		if (memchr(k, 0, (size_t)(ke - k)))
			return -1;
		p = skip_ws(p, end);
		if (p == end || *p++ != ':')
			return -1;
		p = skip_ws(p, end);
		*v = p;
		p = skip_value(p, end);
		if (!p)
			return -1;
		if (ke - k == 11 && memcmp(k, "annotations", 11) == 0) {
			*vend = p;
			return 1;
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',')
			p++;
		else if (p < end && *p == '}')
			return 0;
		else
			return -1;
	}
}

char *spec_peek_annotation_json(const char *buf, size_t len, const char *const *keys, size_t n_keys)
{
	_cleanup_spec_arena_ struct spec_arena arena = SPEC_ARENA_INIT;
	const cJSON *root, *ann = NULL;
	const char *v = NULL, *vend = NULL;
	int r;

	r = find_annotations(buf, len, &v, &vend);
	if (r == 0)
		return NULL;
	if (r > 0) {
		root = spec_arena_parse(&arena, v, (size_t)(vend - v), NULL);
		ann = root;
	} else {
		/* Not decided by the scan: the whole document, as the full parser would read it. */
		root = spec_arena_parse(&arena, buf, len, NULL);
		ann = cJSON_GetObjectItemCaseSensitive(root, "annotations");
	}
	if (!cJSON_IsObject(ann))
		return NULL;
	for (size_t i = 0; i < n_keys; i++) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(ann, keys[i]);

		if (cJSON_IsString(e) && e->valuestring[0])
			return xstrdup(e->valuestring);
	}
	return NULL;
}

char *rt_spec_peek_annotation(const char *bundle, const char *const *keys, size_t n_keys)
{
	_cleanup_free_ char *path = xstrjoin(bundle, "/config.json", NULL);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	if (read_file(path, SPEC_MAX_SIZE, &buf, &len) < 0)
		return NULL;
	return spec_peek_annotation_json(buf, len, keys, n_keys);
}
