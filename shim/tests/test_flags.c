/* The flag parser accepts what containerd passes, in every spelling Go's flag package allows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "shim/shim.h"

static void test_flags_parse_containerd_start_invocation(void **st)
{
	char *argv[] = {"shim",
			"-namespace",
			"default",
			"-address",
			"/run/c.sock",
			"-publish-binary",
			"/usr/bin/containerd",
			"-id",
			"t1",
			"-debug",
			"start"};
	struct shim_flags f = {0};
	struct wren_err *err = NULL;

	assert_int_equal(shim_parse_flags(11, argv, &f, &err), 0);
	assert_string_equal(f.namespace, "default");
	assert_string_equal(f.address, "/run/c.sock");
	assert_string_equal(f.publish_binary, "/usr/bin/containerd");
	assert_string_equal(f.id, "t1");
	assert_true(f.debug);
	assert_string_equal(f.action, "start");
}

static void test_flags_accept_equals_and_double_dash(void **st)
{
	char *argv[] = {"shim", "--namespace=k8s.io", "-id=c2", "--bundle", "/b", "delete"};
	struct shim_flags f = {0};
	struct wren_err *err = NULL;

	assert_int_equal(shim_parse_flags(6, argv, &f, &err), 0);
	assert_string_equal(f.namespace, "k8s.io");
	assert_string_equal(f.id, "c2");
	assert_string_equal(f.bundle, "/b");
	assert_string_equal(f.action, "delete");
	assert_false(f.debug);
}

static void test_flags_ignore_unknown_flags_from_newer_containerd(void **st)
{
	char *argv[] = {"shim", "-namespace", "n", "-future-flag", "-id", "x"};
	struct shim_flags f = {0};
	struct wren_err *err = NULL;

	assert_int_equal(shim_parse_flags(6, argv, &f, &err), 0);
	assert_string_equal(f.id, "x");
	assert_null(f.action);
}

static void test_flags_reject_a_value_flag_without_value(void **st)
{
	char *argv[] = {"shim", "-namespace"};
	struct shim_flags f = {0};
	struct wren_err *err = NULL;

	assert_int_equal(shim_parse_flags(2, argv, &f, &err), -1);
	assert_non_null(strstr(err->msg, "namespace"));
	wren_err_free(err);
}

static void test_flags_debug_false_turns_debug_off(void **st)
{
	char *argv[] = {"shim", "-debug=false", "-namespace", "n"};
	struct shim_flags f = {0};
	struct wren_err *err = NULL;

	assert_int_equal(shim_parse_flags(4, argv, &f, &err), 0);
	assert_false(f.debug);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flags_parse_containerd_start_invocation),
	    cmocka_unit_test(test_flags_accept_equals_and_double_dash),
	    cmocka_unit_test(test_flags_ignore_unknown_flags_from_newer_containerd),
	    cmocka_unit_test(test_flags_reject_a_value_flag_without_value),
	    cmocka_unit_test(test_flags_debug_false_turns_debug_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
