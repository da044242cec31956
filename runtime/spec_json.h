/* Private to the spec parser (runtime/spec*.c); nothing else in wren includes it, so that the rest
 * of the code never touches cJSON. It offers the field getters of spec_json.c and the entry points
 * of the files that parse one part of config.json each.
 *
 * A getter reads o[key], treating an explicit null as absent, and names the field in its error as
 * "<base>.<key>" (just "<key>" when base is ""). Absent optional values leave *has false (or *out
 * NULL) and succeed; a value of the wrong type or out of range fails with WREN_E_INVALID_ARGUMENT.
 */
#ifndef WREN_SPEC_JSON_H
#define WREN_SPEC_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/err.h"
#include "runtime/spec.h"
#include "runtime/spec_arena.h"

/* config.json is untrusted input: bound what we are willing to parse (architecture.md §5). */
#define SPEC_MAX_SIZE (16u << 20)

/* ---- spec_annotations.c -----------------------------------------------------------------------
 */

/* rt_spec_peek_annotation on config.json's text. */
char *spec_peek_annotation_json(const char *json, size_t len, const char *const *keys,
				size_t n_keys);

/* ---- spec_json.c ------------------------------------------------------------------------------
 */

/* Parse one bounded JSON document that must be an object into a; errors start with what
 * ("config.json"). The tree lives until a is released. */
int spec_parse_json(struct spec_arena *a, const char *json, size_t len, const char *what,
		    cJSON **out, struct wren_err **err);

/* Always -1, with "<base>.<key>: <what>" (key may be NULL: "<base>: <what>"). */
int spec_field_err(struct wren_err **err, const char *base, const char *key, const char *what);
/* "<base>.<key>[i]" (or "<key>[i]" at the top level), for the elements of an array; caller frees.
 */
char *spec_elem_base(const char *base, const char *key, size_t i);

int spec_get_obj(const cJSON *o, const char *key, const char *base, const cJSON **out,
		 struct wren_err **err);
int spec_get_array(const cJSON *o, const char *key, const char *base, const cJSON **out, size_t *n,
		   struct wren_err **err);
int spec_get_str(const cJSON *o, const char *key, const char *base, bool required, char **out,
		 struct wren_err **err);
int spec_get_bool(const cJSON *o, const char *key, const char *base, bool *out, bool *has,
		  struct wren_err **err);
/* Integers in [min, max]; the "unlimited" values Go writes past 2^63 are clamped to INT64_MAX
 * when max is INT64_MAX. has may be NULL. */
int spec_get_i64(const cJSON *o, const char *key, const char *base, int64_t min, int64_t max,
		 int64_t *out, bool *has, struct wren_err **err);
int spec_get_u64(const cJSON *o, const char *key, const char *base, uint64_t max, uint64_t *out,
		 bool *has, struct wren_err **err);
int spec_get_u32(const cJSON *o, const char *key, const char *base, uint32_t *out, bool *has,
		 struct wren_err **err);
/* A NULL-terminated array of strings, *n entries; absent gives NULL unless always_alloc. */
int spec_get_strv(const cJSON *o, const char *key, const char *base, bool always_alloc, char ***out,
		  size_t *n, struct wren_err **err);
/* An object of string values → parallel key/value vectors. On failure the vectors stay
 * allocated with the *n pairs read so far: the caller frees them. */
int spec_get_string_map(const cJSON *o, const char *key, const char *base, char ***keys,
			char ***values, size_t *n, struct wren_err **err);
/* A one-letter "type" field out of allowed; absent gives dflt, or fails when dflt is 0. */
int spec_get_type_char(const cJSON *e, const char *eb, const char *allowed, char dflt, char *out,
		       struct wren_err **err);
void spec_strv_free(char **v, size_t n);

/* ---- the parts of the document, one file each -------------------------------------------------
 */

/* root.linux into s (spec_linux.c); spec_linux_clear releases what it filled. */
int spec_parse_linux(const cJSON *root, struct rt_spec *s, struct wren_err **err);
void spec_linux_clear(struct rt_spec *s);

/* A LinuxResources object (spec_resources.c); the caller clears res on failure. */
int spec_parse_resources(const cJSON *r, const char *base, struct rt_resources *res,
			 struct wren_err **err);

/* linux.seccomp into s (spec_seccomp.c). */
int spec_parse_seccomp(const cJSON *lx, struct rt_spec *s, struct wren_err **err);
void spec_seccomp_clear(struct rt_seccomp *sc);

#endif
