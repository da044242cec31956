/* Mount options read as containerd's mount package and runc read them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <sys/mount.h>

#include "runtime/mountopt.h"

#define PARSE(out, ...)                                                                            \
	do {                                                                                       \
		const char *const o_[] = {__VA_ARGS__};                                            \
		rt_mountopt_parse(o_, sizeof(o_) / sizeof(o_[0]), (out));                          \
	} while (0)

static void test_flag_words_set_their_ms_flags(void **state)
{
	struct rt_mountopt m;

	PARSE(&m, "nosuid", "noexec", "nodev", "ro", "noatime", "nodiratime", "relatime",
	      "strictatime", "sync", "dirsync", "mand", "remount");
	assert_int_equal(m.flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY | MS_NOATIME |
				      MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME |
				      MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK | MS_REMOUNT);
	assert_int_equal(m.clear_flags, 0);
	assert_null(m.data);
	assert_false(m.bind);
}

static void test_clearing_words_go_to_clear_flags(void **state)
{
	struct rt_mountopt m;

	PARSE(&m, "rw", "suid", "dev", "exec", "atime", "diratime", "async", "nomand", "norelatime",
	      "nostrictatime");
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.clear_flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
					    MS_NODIRATIME | MS_SYNCHRONOUS | MS_MANDLOCK |
					    MS_RELATIME | MS_STRICTATIME);
}

static void test_later_word_wins_over_earlier_opposite(void **state)
{
	struct rt_mountopt m;

	PARSE(&m, "ro", "rw");
	assert_int_equal(m.flags & MS_RDONLY, 0);
	assert_int_equal(m.clear_flags, MS_RDONLY);
	PARSE(&m, "rw", "ro");
	assert_int_equal(m.flags, MS_RDONLY);
	assert_int_equal(m.clear_flags, 0);
}

static void test_rbind_is_recursive_bind(void **state)
{
	struct rt_mountopt m;

	PARSE(&m, "rbind", "ro");
	assert_int_equal(m.flags, MS_BIND | MS_REC | MS_RDONLY);
	assert_true(m.bind);
	PARSE(&m, "bind");
	assert_int_equal(m.flags, MS_BIND);
	assert_true(m.bind);
}

static void test_propagation_words_are_kept_apart(void **state)
{
	struct rt_mountopt m;

	PARSE(&m, "rbind", "rprivate");
	assert_int_equal(m.propagation, MS_PRIVATE | MS_REC);
	assert_int_equal(m.flags, MS_BIND | MS_REC);
	PARSE(&m, "slave");
	assert_int_equal(m.propagation, MS_SLAVE);
	PARSE(&m, "rshared");
	assert_int_equal(m.propagation, MS_SHARED | MS_REC);
	PARSE(&m, "runbindable");
	assert_int_equal(m.propagation, MS_UNBINDABLE | MS_REC);
	PARSE(&m, "private");
	assert_int_equal(m.propagation, MS_PRIVATE);
}

static void test_unknown_words_are_joined_as_data(void **state)
{
	struct rt_mountopt m;

	PARSE(&m, "nosuid", "mode=755", "defaults", "size=65536k", "lowerdir=/a:/b");
	assert_int_equal(m.flags, MS_NOSUID);
	assert_string_equal(m.data, "mode=755,size=65536k,lowerdir=/a:/b");
	free(m.data);
}

/* nosymfollow is a flag of mount(2); the r-words are attributes for the whole tree, apart from
 * the flags and never filesystem data (a bind would drop data silently) */
static void test_recursive_words_are_mount_attributes(void **state)
{
	struct rt_mountopt m;

	PARSE(&m, "rbind", "nosymfollow", "rro", "rnosuid", "rnodev", "rnoexec", "rnodiratime",
	      "rnosymfollow");
	assert_int_equal(m.flags, MS_BIND | MS_REC | MS_NOSYMFOLLOW);
	assert_int_equal(m.rec_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME |
					MOUNT_ATTR_NOSYMFOLLOW);
	assert_int_equal(m.rec_clr, 0);
	assert_null(m.data);

	PARSE(&m, "rro", "rrw", "rsuid", "rdev", "rexec", "rsymfollow", "symfollow");
	assert_int_equal(m.rec_set, 0);
	assert_int_equal(m.rec_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSYMFOLLOW);
	assert_int_equal(m.clear_flags, MS_NOSYMFOLLOW);
	assert_null(m.data);
}

/* an atime mode is one value: setting it clears the whole field, and a later mode replaces it */
static void test_recursive_atime_words_replace_each_other(void **state)
{
	struct rt_mountopt m;

	PARSE(&m, "rnoatime");
	assert_int_equal(m.rec_set, MOUNT_ATTR_NOATIME);
	assert_int_equal(m.rec_clr, MOUNT_ATTR__ATIME);
	PARSE(&m, "rnoatime", "rstrictatime");
	assert_int_equal(m.rec_set, MOUNT_ATTR_STRICTATIME);
	assert_int_equal(m.rec_clr, MOUNT_ATTR__ATIME);
	PARSE(&m, "rstrictatime", "rrelatime");
	assert_int_equal(m.rec_set, MOUNT_ATTR_RELATIME);
	assert_int_equal(m.rec_clr, MOUNT_ATTR__ATIME);
}

static void test_defaults_and_nothing_give_nothing(void **state)
{
	struct rt_mountopt m;

	PARSE(&m, "defaults");
	assert_int_equal(m.flags | m.clear_flags | m.propagation, 0);
	assert_null(m.data);
	rt_mountopt_parse(NULL, 0, &m);
	assert_int_equal(m.flags | m.clear_flags | m.propagation, 0);
	assert_null(m.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flag_words_set_their_ms_flags),
	    cmocka_unit_test(test_clearing_words_go_to_clear_flags),
	    cmocka_unit_test(test_later_word_wins_over_earlier_opposite),
	    cmocka_unit_test(test_rbind_is_recursive_bind),
	    cmocka_unit_test(test_propagation_words_are_kept_apart),
	    cmocka_unit_test(test_unknown_words_are_joined_as_data),
	    cmocka_unit_test(test_recursive_words_are_mount_attributes),
	    cmocka_unit_test(test_recursive_atime_words_replace_each_other),
	    cmocka_unit_test(test_defaults_and_nothing_give_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
