/* The spec parser's bump arena for cJSON trees (see spec_arena.h). cJSON allocates through
 * process-wide hooks that take no context, so the arena being filled is held in a static for the
 * length of one parse call and the default hooks are put back before it returns: the daemon is
 * single-threaded and nothing else runs inside a parse. */
#include <stdalign.h>
#include <stdint.h>

#include "runtime/spec_arena.h"
#include "runtime/util.h"

struct spec_arena_chunk {
	struct spec_arena_chunk *prev;
	size_t used, cap;
	alignas(max_align_t) unsigned char data[];
};

#define ARENA_ALIGN alignof(max_align_t)

/* The first chunk is sized from the document, so that a spec needs one: a node takes 64 bytes and
 * a short string 16, and a compact spec as containerd writes it comes to about 6.4 bytes of tree
 * per byte of JSON (tests/data/config_full.json: 21 kB from 3.3 kB). A large document starts at
 * ARENA_MAX_FIRST and grows by doubling. */
#define ARENA_BYTES_PER_INPUT 8
#define ARENA_MIN_CHUNK	      1024
#define ARENA_MAX_FIRST	      (1u << 20)

static struct spec_arena *filling;

static void *arena_alloc(size_t size)
{
	struct spec_arena *a = filling;
	struct spec_arena_chunk *c = a->chunk;
	size_t need = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	void *p;

	if (need < size)
		abort(); /* size near SIZE_MAX: cJSON never asks for that */
	if (c == NULL || c->cap - c->used < need) {
		size_t cap = a->next_cap > need ? a->next_cap : need;

		c = xmalloc(sizeof(*c) + cap);
		c->prev = a->chunk;
		c->used = 0;
		c->cap = cap;
		a->chunk = c;
		a->next_cap = cap <= SIZE_MAX / 2 ? cap * 2 : cap;
	}
	p = c->data + c->used;
	c->used += need;
	return p;
}

/* cJSON frees only what it drops on a parse error; the arena takes it back all at once. */
static void arena_free(void *p)
{
	(void)p;
}

cJSON *spec_arena_parse(struct spec_arena *a, const char *json, size_t len, const char **end)
{
	cJSON_Hooks hooks = {.malloc_fn = arena_alloc, .free_fn = arena_free};
	cJSON *root;

	if (a->next_cap == 0)
		a->next_cap = len < ARENA_MAX_FIRST / ARENA_BYTES_PER_INPUT
				  ? len * ARENA_BYTES_PER_INPUT + ARENA_MIN_CHUNK
				  : ARENA_MAX_FIRST;
	filling = a;
	cJSON_InitHooks(&hooks);
	root = cJSON_ParseWithLengthOpts(json, len, end, false);
	cJSON_InitHooks(NULL);
	filling = NULL;
	return root;
}

void spec_arena_release(struct spec_arena *a)
{
	while (a->chunk != NULL) {
		struct spec_arena_chunk *prev = a->chunk->prev;

		free(a->chunk);
		a->chunk = prev;
	}
	a->next_cap = 0;
}
