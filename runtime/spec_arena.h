/* Private to the spec parser (runtime/spec*.c): a JSON document parsed into a bump arena. The
 * parser reads the cJSON tree once, copies what it keeps into the typed structs, and drops the
 * whole tree; cJSON's own malloc per node and per string, and cJSON_Delete's walk freeing them one
 * by one, were over half of what a create cost the daemon in user space. */
#ifndef WREN_SPEC_ARENA_H
#define WREN_SPEC_ARENA_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct spec_arena_chunk;

/* Owns every node and string of the trees parsed into it, until spec_arena_release. Nothing
 * built from such a tree may point into it: copy (xstrdup) what outlives the arena. */
struct spec_arena {
	struct spec_arena_chunk *chunk; /* the one allocated from; older ones behind it */
	size_t next_cap;
};
#define SPEC_ARENA_INIT ((struct spec_arena){NULL, 0})

/* cJSON_ParseWithLengthOpts(json, len, end, false) with every allocation from a; NULL on invalid
 * JSON (*end says where). The tree must not be given to cJSON_Delete: release the arena. Other
 * cJSON users in the process are unaffected: the allocation hooks are cJSON's defaults again when
 * this returns. */
cJSON *spec_arena_parse(struct spec_arena *a, const char *json, size_t len, const char **end);
/* Free everything parsed into a; a is empty (SPEC_ARENA_INIT) afterwards and may be reused. */
void spec_arena_release(struct spec_arena *a);
#define _cleanup_spec_arena_ __attribute__((cleanup(spec_arena_release)))

#endif
