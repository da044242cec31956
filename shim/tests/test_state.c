/* The persisted container state: round trip, and no rewrite when nothing changed. */
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

static ino_t inode(void)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, SHIM_STATE_FILE);
	struct stat sb;

	assert_int_equal(stat(p, &sb), 0);
	return sb.st_ino;
}

static void test_round_trip_and_rewrite_only_on_change(void **st)
{
	struct shim_state a = {.pid = 4242}, b;
	ino_t first;

	snprintf(a.cgroup, sizeof(a.cgroup), "/default/c1");
	assert_int_equal(shim_state_write(dir, &a, NULL), 0);
	first = inode();
	assert_int_equal(shim_state_read(dir, &b, NULL), 0);
	assert_int_equal(b.pid, 4242);
	assert_string_equal(b.cgroup, "/default/c1");
	assert_false(b.exited);

	/* the same state again: the file is left as it is */
	assert_int_equal(shim_state_write(dir, &a, NULL), 0);
	assert_int_equal(inode(), first);

	/* the exit: replaced, and read back */
	a.exited = true;
	a.exit_status = 137;
	a.exited_sec = 1700000000;
	a.exited_nsec = 5;
	assert_int_equal(shim_state_write(dir, &a, NULL), 0);
	assert_int_equal(shim_state_read(dir, &b, NULL), 0);
	assert_true(b.exited);
	assert_int_equal(b.exit_status, 137);
	assert_int_equal(b.exited_sec, 1700000000);
	assert_int_equal(b.exited_nsec, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_and_rewrite_only_on_change),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
