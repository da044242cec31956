/* OCI hooks: the state document, stdin, exit statuses, timeouts, and no child left behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/hooks.h"
#include "runtime/util.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void assert_no_children_left(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static struct rt_hook sh_hook(char **args, char **env, int timeout)
{
	return (struct rt_hook){.path = "/bin/sh", .args = args, .env = env, .timeout = timeout};
}

static void test_state_json_has_the_oci_fields(void **state)
{
	char *k[] = {"a", "b"}, *v[] = {"1", "2"};
	struct rt_spec spec = {.annotation_keys = k, .annotation_values = v, .n_annotations = 2};
	_cleanup_free_ char *s = rt_state_json(&spec, "c1", "created", 42, "/run/b");
	cJSON *o = cJSON_Parse(s);

	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "ociVersion")->valuestring, "1.0.2");
	assert_string_equal(cJSON_GetObjectItem(o, "id")->valuestring, "c1");
	assert_string_equal(cJSON_GetObjectItem(o, "status")->valuestring, "created");
	assert_int_equal(cJSON_GetObjectItem(o, "pid")->valueint, 42);
	assert_string_equal(cJSON_GetObjectItem(o, "bundle")->valuestring, "/run/b");
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(o, "annotations"), "b")->valuestring, "2");
	cJSON_Delete(o);
}

static void test_state_json_without_pid_or_annotations(void **state)
{
	_cleanup_free_ char *s = rt_state_json(NULL, "c1", "stopped", 0, "/b");

	assert_string_equal(s, "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"stopped\","
			       "\"bundle\":\"/b\",\"annotations\":{}}");
}

static void test_hook_reads_the_state_on_stdin(void **state)
{
	char path[] = "/tmp/wren-hook-XXXXXX";
	int fd = mkstemp(path);
	_cleanup_free_ char *envv = xasprintf("OUT=%s", path);
	char *args[] = {"sh", "-c", "cat > \"$OUT\"", NULL};
	char *env[] = {envv, NULL};
	struct rt_hook h = sh_hook(args, env, 5);
	const char *st = "{\"ociVersion\":\"1.0.2\",\"id\":\"x\"}";
	struct wren_err *err = NULL;
	_cleanup_free_ char *got = NULL;

	assert_true(fd >= 0);
	close(fd);
	if (rt_hooks_run(&h, 1, "prestart", st, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(read_file(path, 4096, &got, NULL), 0);
	assert_string_equal(got, st);
	unlink(path);
	assert_no_children_left();
}

static void test_args_and_env_are_passed_as_given(void **state)
{
	char *args[] = {"custom-argv0", "-c", "echo \"$0 $FOO\" >&2; exit 1", NULL};
	char *env[] = {"FOO=bar", NULL};
	struct rt_hook h = sh_hook(args, env, 5);
	struct wren_err *err = NULL;

	assert_int_equal(rt_hooks_run(&h, 1, "poststart", "{}", &err), -1);
	assert_string_equal(err->msg, "poststart hook /bin/sh: exit status 1: custom-argv0 bar");
	wren_err_free(err);
	assert_no_children_left();
}

static void test_nonzero_exit_is_an_error_with_stderr(void **state)
{
	char *args[] = {"sh", "-c", "echo boom >&2; exit 3", NULL};
	struct rt_hook h = sh_hook(args, NULL, 5);
	struct wren_err *err = NULL;

	assert_int_equal(rt_hooks_run(&h, 1, "createRuntime", "{}", &err), -1);
	assert_string_equal(err->msg, "createRuntime hook /bin/sh: exit status 3: boom");
	wren_err_free(err);
	assert_no_children_left();
}

static void test_stderr_is_capped_at_4kib(void **state)
{
	char *args[] = {"sh", "-c",
			"i=0; while [ $i -lt 3000 ]; do echo xxxxxxxxxxxxxxxxxxx >&2; "
			"i=$((i+1)); done; exit 2",
			NULL};
	struct rt_hook h = sh_hook(args, NULL, 20);
	struct wren_err *err = NULL;

	assert_int_equal(rt_hooks_run(&h, 1, "prestart", "{}", &err), -1);
	assert_true(strlen(err->msg) < 4096 + 100);
	assert_non_null(strstr(err->msg, "exit status 2"));
	wren_err_free(err);
	assert_no_children_left();
}

static void test_timeout_kills_the_hook(void **state)
{
	char *args[] = {"sh", "-c", "exec sleep 30", NULL};
	struct rt_hook h = sh_hook(args, NULL, 1);
	struct wren_err *err = NULL;
	double t0 = now_s();

	assert_int_equal(rt_hooks_run(&h, 1, "prestart", "{}", &err), -1);
	assert_true(now_s() - t0 < 3.0);
	assert_string_equal(err->msg, "prestart hook /bin/sh: timed out after 1s");
	wren_err_free(err);
	assert_no_children_left();
}

static void test_first_failure_stops_the_list(void **state)
{
	char path[] = "/tmp/wren-hook-XXXXXX";
	int fd = mkstemp(path);
	_cleanup_free_ char *cmd = xasprintf("echo ran >> %s", path);
	char *fail[] = {"sh", "-c", "exit 4", NULL};
	char *ok[] = {"sh", "-c", cmd, NULL};
	struct rt_hook hooks[] = {sh_hook(ok, NULL, 5), sh_hook(fail, NULL, 5),
				  sh_hook(ok, NULL, 5)};
	struct wren_err *err = NULL;
	_cleanup_free_ char *got = NULL;

	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	assert_int_equal(rt_hooks_run(hooks, 3, "poststop", "{}", &err), -1);
	assert_string_equal(err->msg, "poststop hook /bin/sh: exit status 4");
	wren_err_free(err);
	/* the first one ran once; the third, after the failure, did not append */
	assert_int_equal(read_file(path, 64, &got, NULL), 0);
	assert_string_equal(got, "ran\n");
	unlink(path);
	assert_no_children_left();
}

static void test_missing_hook_binary_fails_with_exec_error(void **state)
{
	struct rt_hook h = {.path = "/nonexistent/hook", .args = (char *[]){"hook", NULL}};
	struct wren_err *err = NULL;

	assert_int_equal(rt_hooks_run(&h, 1, "prestart", "{}", &err), -1);
	assert_string_equal(err->msg, "prestart hook /nonexistent/hook: exit status 127: exec "
				      "/nonexistent/hook: No such file or directory");
	wren_err_free(err);
	assert_no_children_left();
}

static void test_background_grandchild_does_not_hold_us(void **state)
{
	char *args[] = {"sh", "-c", "sleep 2 & exit 0", NULL};
	struct rt_hook h = sh_hook(args, NULL, 10);
	struct wren_err *err = NULL;
	double t0 = now_s();

	if (rt_hooks_run(&h, 1, "poststart", "{}", &err) < 0)
		fail_msg("%s", err->msg);
	assert_true(now_s() - t0 < 1.5);
	assert_no_children_left();
}

static void test_hook_that_ignores_a_large_stdin_does_not_block(void **state)
{
	size_t n = 1 << 20;
	char *big = xmalloc(n + 1);
	char *args[] = {"sh", "-c", "exit 0", NULL};
	struct rt_hook h = sh_hook(args, NULL, 5);
	struct wren_err *err = NULL;

	memset(big, 'x', n);
	big[n] = '\0';
	if (rt_hooks_run(&h, 1, "prestart", big, &err) < 0)
		fail_msg("%s", err->msg);
	free(big);
	assert_no_children_left();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_json_has_the_oci_fields),
	    cmocka_unit_test(test_state_json_without_pid_or_annotations),
	    cmocka_unit_test(test_hook_reads_the_state_on_stdin),
	    cmocka_unit_test(test_args_and_env_are_passed_as_given),
	    cmocka_unit_test(test_nonzero_exit_is_an_error_with_stderr),
	    cmocka_unit_test(test_stderr_is_capped_at_4kib),
	    cmocka_unit_test(test_timeout_kills_the_hook),
	    cmocka_unit_test(test_first_failure_stops_the_list),
	    cmocka_unit_test(test_missing_hook_binary_fails_with_exec_error),
	    cmocka_unit_test(test_background_grandchild_does_not_hold_us),
	    cmocka_unit_test(test_hook_that_ignores_a_large_stdin_does_not_block),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
