/* rt_spec_peek_annotation: the grouping annotation without a full spec parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/spec.h"
#include "runtime/util.h"

static const char *const keys[] = {"io.containerd.runc.v2.group", "io.kubernetes.cri.sandbox-id"};

static char *peek(const char *json, size_t len)
{
	char dir[] = "/tmp/wren-test-ann.XXXXXX";
	char *path, *v;

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/config.json", dir);
	assert_int_equal(write_file(path, json, len, true), 0);
	v = rt_spec_peek_annotation(dir, keys, 2);
	unlink(path);
	rmdir(dir);
	free(path);
	return v;
}

static void expect_n(const char *json, size_t len, const char *want)
{
	char *v = peek(json, len);

	if (want) {
		assert_non_null(v);
		assert_string_equal(v, want);
	} else {
		assert_null(v);
	}
	free(v);
}

static void expect(const char *json, const char *want)
{
	expect_n(json, strlen(json), want);
}

static void test_found_after_other_fields(void **state)
{
	expect(
	    "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\",\"-c\",\"echo }]{[\\\"\"],"
	    "\"env\":[]},\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]},\"x\":-1.5e3,\"y\":true,"
	    "\"z\":null,\"annotations\":{\"a\":\"b\",\"io.kubernetes.cri.sandbox-id\":\"pod1\"},"
	    "\"hostname\":\"h\"}",
	    "pod1");
}

static void test_first_key_wins(void **state)
{
	expect(" {\n \"annotations\" : {\"io.kubernetes.cri.sandbox-id\":\"pod\","
	       "\"io.containerd.runc.v2.group\":\"grp\"}\n}\n",
	       "grp");
}

static void test_absent_empty_or_wrong_type(void **state)
{
	expect("{\"ociVersion\":\"1.0.2\"}", NULL);
	expect("{\"annotations\":{\"io.containerd.runc.v2.group\":\"\"}}", NULL);
	expect("{\"annotations\":{\"io.containerd.runc.v2.group\":7}}", NULL);
	expect("{\"annotations\":[\"io.containerd.runc.v2.group\"]}", NULL);
	expect("{}", NULL);
}

static void test_escaped_key_falls_back_to_full_parse(void **state)
{
	expect("{\"annot\\u0061tions\":{\"io.containerd.runc.v2.group\":\"esc\"}}", "esc");
	expect("{\"a\\\"b\":1,\"annotations\":{\"io.containerd.runc.v2.group\":\"g2\"}}", "g2");
}

/* A quote after an even run of backslashes ends its string; after an odd run it is part of it,
 * here of a string that spells out an "annotations" object of its own. */
static void test_backslash_runs_before_quotes(void **state)
{
	expect("{\"x\":\"a\\\\\\\\\","
	       "\"y\":\"\\\\\\\",\\\"annotations\\\":{\\\"io.containerd.runc.v2.group\\\":"
	       "\\\"fake\\\"},\\\"z\\\":\\\"\","
	       "\"annotations\":{\"io.containerd.runc.v2.group\":\"real\"}}",
	       "real");
}

/* cJSON, which parses the spec for Create, skips every byte up to ' ' as whitespace, NUL included,
 * and reads a key up to its first NUL: the scan must see the same document (found by fuzz_spec). */
static void test_control_bytes_read_as_cjson_reads_them(void **state)
{
	static const char ws[] = "{\"ociVersion\":\"0.0.2\",\"annotations\":\x01\0\0\0"
				 "{\"io.containerd.runc.v2.group\":\"v\"}}";
	static const char key[] = "{\"annotations\0x\":{\"io.containerd.runc.v2.group\":\"n\"}}";
	static const char scalar[] =
	    "{\"a\":1\0\x1f,\"annotations\":{\"io.containerd.runc.v2.group\":"
	    "\"s\"}}";

	expect_n(ws, sizeof(ws) - 1, "v");
	expect_n(key, sizeof(key) - 1, "n");
	expect_n(scalar, sizeof(scalar) - 1, "s");
}

static void test_invalid_json(void **state)
{
	expect("", NULL);
	expect("{\"annotations\":{\"io.containerd.runc.v2.group\":\"g\"", NULL);
	expect("[1,2]", NULL);
	expect("{\"a\":\"unterminated}", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_found_after_other_fields),
	    cmocka_unit_test(test_first_key_wins),
	    cmocka_unit_test(test_absent_empty_or_wrong_type),
	    cmocka_unit_test(test_escaped_key_falls_back_to_full_parse),
	    cmocka_unit_test(test_backslash_runs_before_quotes),
	    cmocka_unit_test(test_control_bytes_read_as_cjson_reads_them),
	    cmocka_unit_test(test_invalid_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
