/* cgroup_join.c: children that move themselves into their container's cgroup. A real cgroup
 * below /wren-test-join-<pid> (removed by the group teardown); children are real clones that
 * join, report on a pipe and wait to be killed. On a pure v2 host every test but the v2 one
 * skips, and on a v1 host the v2 one does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/cgroup_fs.h"
#include "runtime/runtime.h"
#include "runtime/syscalls.h"
#include "runtime/util.h"

static char test_root[64];

static bool v1_host(void)
{
	return rt_cgroup_host_mode() != RT_CGROUP_V2;
}

static bool procs_has(const char *dir, pid_t pid)
{
	_cleanup_free_ char *procs = NULL;
	bool found = false;

	if (rt_cgfs_read(dir, "cgroup.procs", &procs) < 0)
		fail_msg("read %s/cgroup.procs: %s", dir, strerror(errno));
	for (char *save = NULL, *l = strtok_r(procs, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		found |= atoi(l) == pid;
	return found;
}

/* Clone a child (into clone_fd's cgroup when >= 0) that joins cg, writes 'y' or 'n' on a pipe and
 * waits. Returns its pid; *ok says what it reported. */
static pid_t joiner(const struct rt_cgroup *cg, int clone_fd, bool *ok)
{
	int p[2], pidfd = -1;
	char c = 0;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = rt_sys_clone3(0, clone_fd, &pidfd);
	assert_true(pid >= 0);
	if (pid == 0) {
		char r = rt_cgroup_join_self(cg, clone_fd >= 0, NULL) == 0 ? 'y' : 'n';

		if (write(p[1], &r, 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(p[1]);
	close(pidfd);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	*ok = c == 'y';
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A child of a fresh cgroup at path joins it (prepared: the daemon's files and the clone fd; not:
 * every hierarchy by path) and is then listed in each hierarchy. */
static void child_joins_everywhere(const char *name, bool prepared)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", test_root, name);
	struct rt_cgroup *cg = NULL;
	bool ok = false;
	pid_t pid;

	assert_int_equal(rt_cgroup_create(path, NULL, &cg, NULL), 0);
	if (prepared)
		assert_int_equal(rt_cgroup_prepare_join(cg, NULL), 0);
	pid = joiner(cg, prepared ? rt_cgroup_clone_fd(cg) : -1, &ok);
	assert_true(ok);
	for (size_t i = 0; i < cg->n_dirs; i++)
		assert_true(procs_has(cg->dirs[i], pid));
	reap(pid);
	assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
	rt_cgroup_free(cg);
}

static void test_a_child_born_with_the_clone_fd_is_in_every_hierarchy_after_joining(void **state)
{
	if (!v1_host())
		skip();
	child_joins_everywhere("born", true);
}

/* Without the clone fd (or before prepare_join) the child still ends up everywhere: the cgroup2
 * mount's part, and any file not opened ahead, go by path. */
static void test_a_child_joins_by_path_when_nothing_was_prepared(void **state)
{
	if (!v1_host())
		skip();
	child_joins_everywhere("bypath", false);
}

/* The caller itself stays where it was: preparing only opens files. */
static void test_prepare_join_leaves_the_caller_where_it_is(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/caller", test_root);
	struct rt_cgroup *cg = NULL;

	if (!v1_host())
		skip();
	assert_int_equal(rt_cgroup_create(path, NULL, &cg, NULL), 0);
	assert_int_equal(rt_cgroup_prepare_join(cg, NULL), 0);
	assert_int_equal(rt_cgroup_prepare_join(cg, NULL), 0); /* again: nothing reopened */
	for (size_t i = 0; i < cg->n_dirs; i++)
		assert_false(procs_has(cg->dirs[i], getpid()));
	assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
	rt_cgroup_free(cg);
}

/* Kept files of a cgroup removed and made again at the same path: the child lands in the new
 * one; with none there, it reports failure. */
static void test_a_child_with_stale_kept_files_joins_the_cgroup_made_again(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/again", test_root);
	struct rt_cgroup *old = NULL, *fresh = NULL;
	bool ok = false;
	pid_t pid;

	if (!v1_host())
		skip();
	assert_int_equal(rt_cgroup_create(path, NULL, &old, NULL), 0);
	assert_int_equal(rt_cgroup_prepare_join(old, NULL), 0);
	assert_int_equal(rt_cgroup_destroy(old, NULL), 0);
	assert_int_equal(rt_cgroup_create(path, NULL, &fresh, NULL), 0);
	pid = joiner(old, -1, &ok);
	assert_true(ok);
	for (size_t i = 0; i < fresh->n_dirs; i++)
		assert_true(procs_has(fresh->dirs[i], pid));
	reap(pid);
	assert_int_equal(rt_cgroup_destroy(fresh, NULL), 0);
	rt_cgroup_free(fresh);

	pid = joiner(old, -1, &ok);
	assert_false(ok);
	reap(pid);
	rt_cgroup_free(old);
}

/* Pure v2: the clone fd is the cgroup's directory and the child has nothing left to do. */
static void test_on_v2_the_child_is_born_in_place(void **state)
{
	_cleanup_free_ char *path = NULL;
	struct rt_cgroup *cg = NULL;
	bool ok = false;
	pid_t pid;

	/* skip() jumps out past the cleanups: nothing allocated before it */
	if (v1_host())
		skip();
	path = xasprintf("%s/v2", test_root);
	assert_int_equal(rt_cgroup_create(path, NULL, &cg, NULL), 0);
	assert_int_equal(rt_cgroup_prepare_join(cg, NULL), 0);
	assert_int_equal(rt_cgroup_clone_fd(cg), rt_cgroup_dirfd(cg));
	pid = joiner(cg, rt_cgroup_clone_fd(cg), &ok);
	assert_true(ok);
	assert_true(procs_has(cg->dir, pid));
	reap(pid);
	assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
	rt_cgroup_free(cg);
}

static int setup(void **state)
{
	if (geteuid() != 0) {
		fprintf(stderr, "cgroup tests need root\n");
		return -1;
	}
	snprintf(test_root, sizeof(test_root), "/wren-test-join-%d", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	struct wren_err *err = NULL;

	if (rt_cgroup_cleanup(test_root, &err) < 0) {
		fprintf(stderr, "cleanup %s: %s\n", test_root, err->msg);
		wren_err_free(err);
		return -1;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_a_child_born_with_the_clone_fd_is_in_every_hierarchy_after_joining),
	    cmocka_unit_test(test_a_child_joins_by_path_when_nothing_was_prepared),
	    cmocka_unit_test(test_prepare_join_leaves_the_caller_where_it_is),
	    cmocka_unit_test(test_a_child_with_stale_kept_files_joins_the_cgroup_made_again),
	    cmocka_unit_test(test_on_v2_the_child_is_born_in_place),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
