/* spec_arena_parse: a cJSON tree in a bump arena, and cJSON's defaults back for everyone else. */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/spec_arena.h"
#include "runtime/util.h"

static cJSON *parse(struct spec_arena *a, const char *json)
{
	return spec_arena_parse(a, json, strlen(json), NULL);
}

static void test_parse_reads_the_document(void **state)
{
	struct spec_arena a = SPEC_ARENA_INIT;
	cJSON *root = parse(&a, "{\"args\":[\"sh\",\"-c\"],\"n\":-3,\"t\":true,\"z\":null}");
	const cJSON *args;

	assert_non_null(root);
	args = cJSON_GetObjectItemCaseSensitive(root, "args");
	assert_int_equal(cJSON_GetArraySize(args), 2);
	assert_string_equal(cJSON_GetArrayItem(args, 1)->valuestring, "-c");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "n")->valueint, -3);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "t")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "z")));
	spec_arena_release(&a);
	assert_null(a.chunk);
}

/* Every node holds pointers and a double: each allocation is aligned as malloc's would be. */
static void test_nodes_are_aligned(void **state)
{
	struct spec_arena a = SPEC_ARENA_INIT;
	cJSON *root = parse(&a, "{\"a\":\"x\",\"bb\":\"yy\",\"ccc\":[1.5,\"z\",{}]}");

	assert_non_null(root);
	for (const cJSON *e = root->child; e; e = e->next) {
		assert_int_equal((uintptr_t)e % alignof(max_align_t), 0);
		for (const cJSON *c = e->child; c; c = c->next)
			assert_int_equal((uintptr_t)c % alignof(max_align_t), 0);
	}
	spec_arena_release(&a);
}

/* A document whose tree outgrows the first chunk (sized from its length) gets more chunks. */
static void test_large_tree_spans_chunks(void **state)
{
	struct spec_arena a = SPEC_ARENA_INIT;
	size_t n = 20000;
	char *json = xmalloc(2 * n + 2);
	cJSON *root;
	size_t i = 0;

	/* "[0,0,...]": 2 bytes of JSON per 64-byte node, 4 times what the first chunk allows */
	json[0] = '[';
	for (size_t i = 0; i < n; i++) {
		json[1 + 2 * i] = '0';
		json[2 + 2 * i] = i + 1 < n ? ',' : ']';
	}
	json[2 * n + 1] = '\0';
	root = parse(&a, json);
	assert_non_null(root);
	for (const cJSON *e = root->child; e; e = e->next, i++)
		assert_true(cJSON_IsNumber(e) && e->valueint == 0);
	assert_int_equal(i, n);
	spec_arena_release(&a);
	free(json);
}

/* Invalid JSON: NULL and where it broke; what cJSON made before it gave up is the arena's. */
static void test_invalid_json_reports_where(void **state)
{
	struct spec_arena a = SPEC_ARENA_INIT;
	const char *json = "{\"a\":[1,2,}";
	const char *end = NULL;

	assert_null(spec_arena_parse(&a, json, strlen(json), &end));
	assert_ptr_equal(end, json + 10);
	spec_arena_release(&a);
}

/* After a parse, cJSON allocates with malloc again: a tree built and deleted elsewhere in the
 * process (hooks.c's state document) must not land in the arena or be freed into it. */
static void test_default_hooks_are_back_after_parse(void **state)
{
	struct spec_arena a = SPEC_ARENA_INIT;
	cJSON *o;
	char *s;

	assert_non_null(parse(&a, "{\"x\":1}"));
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", "c1");
	s = cJSON_PrintUnformatted(o);
	spec_arena_release(&a); /* o and s survive: they are not the arena's */
	assert_string_equal(s, "{\"id\":\"c1\"}");
	cJSON_Delete(o);
	cJSON_free(s);
}

/* Two trees in one arena, then reuse after a release. */
static void test_arena_is_reusable(void **state)
{
	struct spec_arena a = SPEC_ARENA_INIT;
	cJSON *x = parse(&a, "{\"x\":\"1\"}"), *y = parse(&a, "{\"y\":\"2\"}");

	assert_string_equal(cJSON_GetObjectItemCaseSensitive(x, "x")->valuestring, "1");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(y, "y")->valuestring, "2");
	spec_arena_release(&a);
	x = parse(&a, "{\"x\":\"3\"}");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(x, "x")->valuestring, "3");
	spec_arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_reads_the_document),
	    cmocka_unit_test(test_nodes_are_aligned),
	    cmocka_unit_test(test_large_tree_spans_chunks),
	    cmocka_unit_test(test_invalid_json_reports_where),
	    cmocka_unit_test(test_default_hooks_are_back_after_parse),
	    cmocka_unit_test(test_arena_is_reusable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
