/* The persisted container state: round trip, atomic replacement, and no write when the daemon's
 * memory says the file already holds the state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "runtime/util.h"
#include "shim/state.h"

static char dir[] = "/tmp/wren-test-state.XXXXXX";

static int setup(void **st)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, SHIM_STATE_FILE);

	unlink(p);
	return rmdir(dir);
}

static char *state_path(void)
{
	return xasprintf("%s/%s", dir, SHIM_STATE_FILE);
}

static ino_t inode(void)
{
	_cleanup_free_ char *p = state_path();
	struct stat sb;

	assert_int_equal(stat(p, &sb), 0);
	return sb.st_ino;
}

static struct shim_state created(void)
{
	struct shim_state a = {.pid = 4242};

	snprintf(a.cgroup, sizeof(a.cgroup), "/default/c1");
	return a;
}

static void test_state_round_trips_through_the_file(void **st)
{
	struct shim_state a = created(), b;

	a.exited = true;
	a.exit_status = 137;
	a.exited_sec = 1700000000;
	a.exited_nsec = 5;
	assert_int_equal(shim_state_write(dir, &a, NULL, NULL), 0);
	assert_int_equal(shim_state_read(dir, &b, NULL), 0);
	assert_int_equal(b.pid, 4242);
	assert_string_equal(b.cgroup, "/default/c1");
	assert_true(b.exited);
	assert_int_equal(b.exit_status, 137);
	assert_int_equal(b.exited_sec, 1700000000);
	assert_int_equal(b.exited_nsec, 5);
}

static void test_state_unchanged_is_not_written_again(void **st)
{
	struct shim_state_cache cache = {0};
	struct shim_state a = created();
	ino_t first;

	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	assert_true(cache.valid);
	first = inode();
	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	assert_int_equal(inode(), first);
}

/* Every write is a new inode renamed over the old one: a reader never sees a half-written file. */
static void test_state_change_replaces_the_file(void **st)
{
	struct shim_state_cache cache = {0};
	struct shim_state a = created(), b;
	_cleanup_free_ char *tmp = xasprintf("%s/.%s", dir, SHIM_STATE_FILE);
	ino_t first;

	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	first = inode();
	a.exited = true;
	a.exit_status = 3;
	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	assert_int_not_equal(inode(), first);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(shim_state_read(dir, &b, NULL), 0);
	assert_int_equal(b.exit_status, 3);
}

/* The daemon is the file's only writer: it trusts its memory and never reads the file back. */
static void test_state_write_trusts_memory_not_the_file(void **st)
{
	_cleanup_free_ char *p = state_path();
	struct shim_state_cache cache = {0};
	struct shim_state a = created();
	struct stat sb;

	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	assert_int_equal(stat(p, &sb), -1);
}

/* A failed write leaves the memory as it was, so the next persist tries again. */
static void test_state_failed_write_is_retried(void **st)
{
	_cleanup_free_ char *gone = xasprintf("%s/missing", dir);
	_cleanup_free_ char *p = xasprintf("%s/%s", gone, SHIM_STATE_FILE);
	struct shim_state_cache cache = {0};
	struct shim_state a = created(), b;
	struct wren_err *err = NULL;

	assert_int_equal(shim_state_write(gone, &a, &cache, &err), -1);
	assert_non_null(err);
	wren_err_free(err);
	assert_false(cache.valid);
	assert_int_equal(mkdir(gone, 0700), 0);
	assert_int_equal(shim_state_write(gone, &a, &cache, NULL), 0);
	assert_int_equal(shim_state_read(gone, &b, NULL), 0);
	assert_int_equal(b.pid, 4242);
	unlink(p);
	rmdir(gone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_round_trips_through_the_file),
	    cmocka_unit_test(test_state_unchanged_is_not_written_again),
	    cmocka_unit_test(test_state_change_replaces_the_file),
	    cmocka_unit_test(test_state_write_trusts_memory_not_the_file),
	    cmocka_unit_test(test_state_failed_write_is_retried),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
