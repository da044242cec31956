/* The command line of a binary:// logging driver, from its URI (shim-protocol.md §6.5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "shim/logger.h"

static char **argv_of(const char *uri)
{
	struct wren_err *err = NULL;
	char **argv = NULL;

	assert_int_equal(shim_logger_argv(uri, &argv, &err), 0);
	assert_null(err);
	return argv;
}

static void test_logger_path_alone_is_argv0(void **st)
{
	char **a = argv_of("binary:///usr/bin/logger");

	assert_string_equal(a[0], "/usr/bin/logger");
	assert_null(a[1]);
	shim_logger_argv_free(a);
}

static void test_logger_query_pairs_become_key_then_value(void **st)
{
	char **a = argv_of("binary:///bin/l?id=7&mode=fast");

	assert_string_equal(a[0], "/bin/l");
	assert_string_equal(a[1], "id");
	assert_string_equal(a[2], "7");
	assert_string_equal(a[3], "mode");
	assert_string_equal(a[4], "fast");
	assert_null(a[5]);
	shim_logger_argv_free(a);
}

static void test_logger_key_without_value_gets_an_empty_argument(void **st)
{
	char **a = argv_of("binary:///bin/l?flag&x=");

	assert_string_equal(a[1], "flag");
	assert_string_equal(a[2], "");
	assert_string_equal(a[3], "x");
	assert_string_equal(a[4], "");
	assert_null(a[5]);
	shim_logger_argv_free(a);
}

static void test_logger_escapes_are_decoded_and_plus_is_a_space_in_the_query(void **st)
{
	char **a = argv_of("binary:///opt/my%20logger?msg=a+b%2Fc&k%3D=v");

	assert_string_equal(a[0], "/opt/my logger");
	assert_string_equal(a[1], "msg");
	assert_string_equal(a[2], "a b/c");
	assert_string_equal(a[3], "k=");
	assert_string_equal(a[4], "v");
	shim_logger_argv_free(a);
}

static void test_logger_repeated_key_counts_once_with_its_first_value(void **st)
{
	char **a = argv_of("binary:///bin/l?a=1&a=2");

	assert_string_equal(a[1], "a");
	assert_string_equal(a[2], "1");
	assert_null(a[3]);
	shim_logger_argv_free(a);
}

static void test_logger_host_and_fragment_are_ignored(void **st)
{
	char **a = argv_of("binary://somehost/bin/l?a=1#frag");

	assert_string_equal(a[0], "/bin/l");
	assert_string_equal(a[2], "1");
	assert_null(a[3]);
	shim_logger_argv_free(a);
}

static void test_logger_uri_without_path_is_invalid(void **st)
{
	struct wren_err *err = NULL;
	char **argv = NULL;

	assert_int_equal(shim_logger_argv("binary://?a=1", &argv, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->code, WREN_E_INVALID_ARGUMENT);
	wren_err_free(err);
}

static void test_logger_bad_percent_escape_is_invalid(void **st)
{
	struct wren_err *err = NULL;
	char **argv = NULL;

	assert_int_equal(shim_logger_argv("binary:///bin/l?a=%zz", &argv, &err), -1);
	assert_int_equal(err->code, WREN_E_INVALID_ARGUMENT);
	wren_err_free(err);
	err = NULL;
	assert_int_equal(shim_logger_argv("binary:///bin/l?a=%4", &argv, &err), -1);
	wren_err_free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_logger_path_alone_is_argv0),
	    cmocka_unit_test(test_logger_query_pairs_become_key_then_value),
	    cmocka_unit_test(test_logger_key_without_value_gets_an_empty_argument),
	    cmocka_unit_test(test_logger_escapes_are_decoded_and_plus_is_a_space_in_the_query),
	    cmocka_unit_test(test_logger_repeated_key_counts_once_with_its_first_value),
	    cmocka_unit_test(test_logger_host_and_fragment_are_ignored),
	    cmocka_unit_test(test_logger_uri_without_path_is_invalid),
	    cmocka_unit_test(test_logger_bad_percent_escape_is_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
