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
	a.cleaned = true;
	assert_int_equal(shim_state_write(dir, &a, NULL, NULL), 0);
	assert_int_equal(shim_state_read(dir, &b, NULL), 0);
	assert_int_equal(b.pid, 4242);
	assert_string_equal(b.cgroup, "/default/c1");
	assert_true(b.exited);
	assert_int_equal(b.exit_status, 137);
	assert_int_equal(b.exited_sec, 1700000000);
	assert_int_equal(b.exited_nsec, 5);
	assert_true(b.cleaned);
}

static void test_state_of_a_running_init_is_not_cleaned(void **st)
{
	struct shim_state a = created(), b;

	assert_int_equal(shim_state_write(dir, &a, NULL, NULL), 0);
	assert_int_equal(shim_state_read(dir, &b, NULL), 0);
	assert_false(b.exited);
	assert_false(b.cleaned);
}

/* No "cleaned" line (a live or killed daemon, or an older one): the delete action must clean up. */
static void test_state_without_cleaned_line_reads_as_not_cleaned(void **st)
{
	_cleanup_free_ char *p = state_path();
	const char *old = "pid=7\ncgroup=/x\nexited=1\nexit_status=3\nexited_at=1.000000002\n";
	struct shim_state b;

	assert_int_equal(write_file(p, old, strlen(old), true), 0);
	assert_int_equal(shim_state_read(dir, &b, NULL), 0);
	assert_true(b.exited);
	assert_int_equal(b.exit_status, 3);
	assert_false(b.cleaned);
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

/* A new pid or cgroup is a new inode renamed over the old one: a reader never sees a mix. */
static void test_state_change_of_the_process_replaces_the_file(void **st)
{
	struct shim_state_cache cache = {0};
	struct shim_state a = created(), b;
	_cleanup_free_ char *tmp = xasprintf("%s/.%s", dir, SHIM_STATE_FILE);
	ino_t first;

	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	first = inode();
	a.pid = 4343;
	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	assert_int_not_equal(inode(), first);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(shim_state_read(dir, &b, NULL), 0);
	assert_int_equal(b.pid, 4343);
}

/* The init's exit adds its lines to the file the create wrote: the same text a whole write of
 * that state gives, without a new inode. */
static void test_state_exit_is_appended_to_the_same_file(void **st)
{
	_cleanup_free_ char *p = state_path();
	_cleanup_free_ char *text = NULL;
	struct shim_state_cache cache = {0};
	struct shim_state a = created(), b;
	ino_t first;

	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	first = inode();
	a.exited = true;
	a.exit_status = 3;
	a.exited_sec = 1700000000;
	a.exited_nsec = 5;
	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	assert_int_equal(inode(), first);
	assert_int_equal(read_file(p, 4096, &text, NULL), 0);
	assert_string_equal(text, "pid=4242\ncgroup=/default/c1\nexit_status=3\n"
				  "exited_at=1700000000.000000005\nexited=1\n");
	assert_int_equal(shim_state_read(dir, &b, NULL), 0);
	assert_true(b.exited);
	assert_int_equal(b.exit_status, 3);
	assert_int_equal(b.exited_sec, 1700000000);
	assert_int_equal(b.exited_nsec, 5);
	assert_false(b.cleaned);
}

/* The daemon's Delete adds "cleaned" to what the exit wrote: an append to the same file, which
 * then reads exactly as a whole write of that state would. */
static void test_state_cleaned_is_appended_to_the_same_file(void **st)
{
	_cleanup_free_ char *p = state_path();
	_cleanup_free_ char *text = NULL;
	struct shim_state_cache cache = {0};
	struct shim_state a = created(), b;
	ino_t first;

	a.exited = true;
	a.exit_status = 6;
	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	first = inode();
	a.cleaned = true;
	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	assert_int_equal(inode(), first);
	assert_true(cache.last.cleaned);
	assert_int_equal(read_file(p, 4096, &text, NULL), 0);
	assert_string_equal(text, "pid=4242\ncgroup=/default/c1\nexit_status=6\n"
				  "exited_at=0.000000000\nexited=1\ncleaned=1\n");
	assert_int_equal(shim_state_read(dir, &b, NULL), 0);
	assert_true(b.cleaned);
	assert_int_equal(b.exit_status, 6);
}

/* Delete of an init that never ran records its status and the cleanup together, in one append. */
static void test_state_exit_and_cleaned_are_appended_together(void **st)
{
	struct shim_state_cache cache = {0};
	struct shim_state a = created(), b;
	ino_t first;

	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	first = inode();
	a.exited = true;
	a.exit_status = 137;
	a.cleaned = true;
	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	assert_int_equal(inode(), first);
	assert_int_equal(shim_state_read(dir, &b, NULL), 0);
	assert_true(b.exited);
	assert_true(b.cleaned);
	assert_int_equal(b.exit_status, 137);
}

/* A status that changes once recorded (never seen, but not an append): a whole write. */
static void test_state_new_status_after_an_exit_replaces_the_file(void **st)
{
	struct shim_state_cache cache = {0};
	struct shim_state a = created(), b;
	ino_t first;

	a.exited = true;
	a.exit_status = 1;
	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	first = inode();
	a.exit_status = 2;
	assert_int_equal(shim_state_write(dir, &a, &cache, NULL), 0);
	assert_int_not_equal(inode(), first);
	assert_int_equal(shim_state_read(dir, &b, NULL), 0);
	assert_int_equal(b.exit_status, 2);
}

/* The state file holding exactly text (as a reader racing an append may find it), read back. */
static void read_text(const char *text, struct shim_state *out)
{
	_cleanup_free_ char *p = state_path();

	assert_int_equal(write_file(p, text, strlen(text), true), 0);
	assert_int_equal(shim_state_read(dir, out, NULL), 0);
}

/* A read that raced the exit's append and got only its first lines: no exit yet, so the delete
 * action reports the kill it does, never a status it did not see whole. */
static void test_state_exit_without_its_last_line_reads_as_running(void **st)
{
	struct shim_state b;

	read_text("pid=7\ncgroup=/x\nexit_status=3\nexited_at=1.2\nexited=", &b);
	assert_int_equal(b.pid, 7);
	assert_false(b.exited);
	assert_false(b.cleaned);
}

/* A read that raced the append may get part of the line: not cleaned, the delete action cleans. */
static void test_state_unterminated_last_line_is_ignored(void **st)
{
	struct shim_state b;

	read_text("pid=7\ncgroup=/x\nexited=1\nexit_status=3\nexited_at=1.2\ncleaned=1", &b);
	assert_int_equal(b.exit_status, 3);
	assert_false(b.cleaned);
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
	    cmocka_unit_test(test_state_of_a_running_init_is_not_cleaned),
	    cmocka_unit_test(test_state_without_cleaned_line_reads_as_not_cleaned),
	    cmocka_unit_test(test_state_unchanged_is_not_written_again),
	    cmocka_unit_test(test_state_change_of_the_process_replaces_the_file),
	    cmocka_unit_test(test_state_exit_is_appended_to_the_same_file),
	    cmocka_unit_test(test_state_cleaned_is_appended_to_the_same_file),
	    cmocka_unit_test(test_state_exit_and_cleaned_are_appended_together),
	    cmocka_unit_test(test_state_new_status_after_an_exit_replaces_the_file),
	    cmocka_unit_test(test_state_exit_without_its_last_line_reads_as_running),
	    cmocka_unit_test(test_state_unterminated_last_line_is_ignored),
	    cmocka_unit_test(test_state_write_trusts_memory_not_the_file),
	    cmocka_unit_test(test_state_failed_write_is_retried),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
