/* cgroup v1: what the daemon keeps between calls (the hierarchies, read once and only up to the
 * last one /proc/self/cgroup names; each hierarchy's cgroup.procs, opened at the first attach)
 * must give what reading everything afresh gives. Real cgroups below /wren-test-cache-<pid>,
 * removed by the group teardown. On a pure v2 host every test skips: there is no v1 here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/cgroup_fs.h"
#include "runtime/runtime.h"
#include "runtime/util.h"

static char test_root[64];

static bool v1_host(void)
{
	return rt_cgroup_host_mode() != RT_CGROUP_V2;
}

/* The super options of every cgroup/cgroup2 line of all of mountinfo, each set once: what a
 * full scan finds. */
static size_t full_scan_hierarchies(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192], seen[32][256];
	size_t n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char fstype[32], super[256];
		const char *sep = strstr(line, " - ");
		bool dup = false;

		if (sep == NULL || sscanf(sep + 3, "%31s %*s %255s", fstype, super) != 2)
			continue;
		if (strcmp(fstype, "cgroup2") == 0)
			snprintf(super, sizeof(super), "cgroup2");
		else if (strcmp(fstype, "cgroup") != 0)
			continue;
		for (size_t i = 0; i < n && !dup; i++)
			dup = strcmp(seen[i], super) == 0;
		if (!dup && n < 32)
			snprintf(seen[n++], sizeof(seen[0]), "%s", super);
	}
	fclose(f);
	return n;
}

static pid_t sleeper(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static bool procs_has(const char *dir, pid_t pid)
{
	_cleanup_free_ char *procs = NULL;
	char want[16];

	if (rt_cgfs_read(dir, "cgroup.procs", &procs) < 0)
		fail_msg("read %s/cgroup.procs: %s", dir, strerror(errno));
	snprintf(want, sizeof(want), "%d", (int)pid);
	for (char *save = NULL, *l = strtok_r(procs, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		if (strcmp(l, want) == 0)
			return true;
	return false;
}

static void reap(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

static void test_the_hierarchies_are_the_ones_a_full_mountinfo_scan_finds(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/scan", test_root);
	struct rt_cgroup *a = NULL, *b = NULL;

	if (!v1_host())
		skip();
	assert_int_equal(rt_cgroup_create(path, NULL, &a, NULL), 0);
	assert_int_equal(a->n_dirs, full_scan_hierarchies());
	/* the second object comes from what the first read */
	assert_int_equal(rt_cgroup_open(path, &b, NULL), 0);
	assert_int_equal(b->n_dirs, a->n_dirs);
	for (size_t i = 0; i < a->n_dirs; i++)
		assert_string_equal(b->dirs[i], a->dirs[i]);
	rt_cgroup_free(b);
	assert_int_equal(rt_cgroup_destroy(a, NULL), 0);
	rt_cgroup_free(a);
}

static void test_a_second_attach_through_the_kept_files_moves_that_process_too(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/twice", test_root);
	struct rt_cgroup *cg = NULL;
	pid_t p1, p2;

	if (!v1_host())
		skip();
	assert_int_equal(rt_cgroup_create(path, NULL, &cg, NULL), 0);
	p1 = sleeper();
	p2 = sleeper();
	assert_int_equal(rt_cgroup_attach(cg, p1, NULL), 0);
	assert_int_equal(rt_cgroup_attach(cg, p2, NULL), 0);
	for (size_t i = 0; i < cg->n_dirs; i++) {
		assert_true(procs_has(cg->dirs[i], p1));
		assert_true(procs_has(cg->dirs[i], p2));
	}
	assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
	rt_cgroup_free(cg);
	reap(p1);
	reap(p2);
}

/* A kept cgroup.procs of a removed cgroup is opened again by path: the attach lands in the
 * cgroup made again at the same path, as an attach by path did; with none there, it fails with
 * the path in the message. */
static void test_attach_after_the_cgroup_was_made_again_lands_in_the_new_one(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/again", test_root);
	struct rt_cgroup *old = NULL, *other = NULL, *fresh = NULL;
	struct wren_err *err = NULL;
	pid_t p1, p2, p3;

	if (!v1_host())
		skip();
	assert_int_equal(rt_cgroup_create(path, NULL, &old, NULL), 0);
	p1 = sleeper();
	assert_int_equal(rt_cgroup_attach(old, p1, NULL), 0);
	reap(p1);
	/* removed and made again by someone else */
	assert_int_equal(rt_cgroup_open(path, &other, NULL), 0);
	assert_int_equal(rt_cgroup_destroy(other, NULL), 0);
	rt_cgroup_free(other);
	assert_int_equal(rt_cgroup_create(path, NULL, &fresh, NULL), 0);

	p2 = sleeper();
	assert_int_equal(rt_cgroup_attach(old, p2, NULL), 0);
	for (size_t i = 0; i < fresh->n_dirs; i++)
		assert_true(procs_has(fresh->dirs[i], p2));
	reap(p2);
	assert_int_equal(rt_cgroup_destroy(fresh, NULL), 0);
	rt_cgroup_free(fresh);

	/* gone for good */
	p3 = sleeper();
	assert_int_equal(rt_cgroup_attach(old, p3, &err), -1);
	reap(p3);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "cgroup.procs"));
	wren_err_free(err);
	rt_cgroup_free(old);
}

static int setup(void **state)
{
	if (geteuid() != 0) {
		fprintf(stderr, "cgroup tests need root\n");
		return -1;
	}
	snprintf(test_root, sizeof(test_root), "/wren-test-cache-%d", (int)getpid());
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
	    cmocka_unit_test(test_the_hierarchies_are_the_ones_a_full_mountinfo_scan_finds),
	    cmocka_unit_test(test_a_second_attach_through_the_kept_files_moves_that_process_too),
	    cmocka_unit_test(test_attach_after_the_cgroup_was_made_again_lands_in_the_new_one),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
