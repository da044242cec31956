/* cgroups: the pure mappings, path forms, and a real cgroup on this host's hierarchy (v1 here,
 * v2 on a pure v2 host): create with limits, attach, list, freeze, kill, destroy. Everything
 * lives below /wren-test-<pid> and is removed by the group teardown whatever happens. */
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
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/cgroup_fs.h"
#include "runtime/runtime.h"
#include "runtime/util.h"

static char test_root[64];

/* ---- pure mappings ----------------------------------------------------------------------- */

static void test_shares_map_to_weight_as_runc_does(void **state)
{
	assert_int_equal(rt_cg2_shares_to_weight(0), 0);
	assert_int_equal(rt_cg2_shares_to_weight(2), 1);
	assert_int_equal(rt_cg2_shares_to_weight(1024), 39);
	assert_int_equal(rt_cg2_shares_to_weight(262144), 10000);
	/* out of the v1 range: clamped, never wrapped */
	assert_int_equal(rt_cg2_shares_to_weight(1), 1);
	assert_int_equal(rt_cg2_shares_to_weight(1000000), 10000);
}

static void test_blkio_weight_maps_to_io_weight(void **state)
{
	assert_int_equal(rt_cg2_blkio_to_io_weight(0), 0);
	assert_int_equal(rt_cg2_blkio_to_io_weight(10), 1);
	assert_int_equal(rt_cg2_blkio_to_io_weight(500), 4950);
	assert_int_equal(rt_cg2_blkio_to_io_weight(1000), 10000);
}

static void test_path_for_each_cgroups_path_form(void **state)
{
	struct rt_spec s = {0};
	char *p;

	p = rt_cgroup_path_for(&s, "c1");
	assert_string_equal(p, "/wren/c1");
	free(p);
	p = rt_cgroup_path_for(NULL, "c1");
	assert_string_equal(p, "/wren/c1");
	free(p);
	s.cgroups_path = "/default/c1";
	p = rt_cgroup_path_for(&s, "c1");
	assert_string_equal(p, "/default/c1");
	free(p);
	s.cgroups_path = "k8s/pod1/c1";
	p = rt_cgroup_path_for(&s, "c1");
	assert_string_equal(p, "/k8s/pod1/c1");
	free(p);
	s.cgroups_path = "system.slice:cri-containerd:c1";
	p = rt_cgroup_path_for(&s, "c1");
	assert_string_equal(p, "system.slice:cri-containerd:c1");
	free(p);
}

static void test_systemd_path_needs_the_systemd_driver(void **state)
{
	struct rt_cgroup *cg = NULL;
	struct wren_err *err = NULL;

	assert_int_equal(rt_cgroup_create("system.slice:cri-containerd:c1", NULL, &cg, &err), -1);
	assert_int_equal(err->code, WREN_E_INVALID_ARGUMENT);
	assert_non_null(strstr(err->msg, "needs the systemd cgroup driver"));
	wren_err_free(err);
}

static void test_paths_that_climb_or_name_the_root_are_refused(void **state)
{
	const char *bad[] = {"/", "//", "/a/../../etc", "/a/./b", "relative/x", ""};
	struct rt_cgroup *cg = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wren_err *err = NULL;

		assert_int_equal(rt_cgroup_open(bad[i], &cg, &err), -1);
		assert_int_equal(err->code, WREN_E_INVALID_ARGUMENT);
		wren_err_free(err);
	}
}

/* ---- on this host ------------------------------------------------------------------------ */

/* Every cgroup mount point of this host (v1 hierarchies, or the v2 root). */
static size_t cgroup_mounts(char mounts[][256], size_t max)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	size_t n = 0;

	assert_non_null(f);
	while (n < max && fgets(line, sizeof(line), f)) {
		char mnt[256], fstype[32];
		const char *sep = strstr(line, " - ");

		if (sep == NULL || sscanf(sep + 3, "%31s", fstype) != 1)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %255s", mnt) != 1)
			continue;
		if (rt_cgroup_host_mode() == RT_CGROUP_V2 ? strcmp(mnt, "/sys/fs/cgroup") == 0
							  : strncmp(fstype, "cgroup", 6) == 0)
			snprintf(mounts[n++], 256, "%s", mnt);
	}
	fclose(f);
	return n;
}

/* The directory of path in the hierarchy holding controller ctrl. */
static char *ctrl_dir(const char *ctrl, const char *path)
{
	char mounts[32][256];
	size_t n = cgroup_mounts(mounts, 32);

	if (rt_cgroup_host_mode() == RT_CGROUP_V2)
		return xasprintf("/sys/fs/cgroup%s", path);
	for (size_t i = 0; i < n; i++) {
		const char *base = strrchr(mounts[i], '/') + 1;
		_cleanup_free_ char *pat = xasprintf(",%s,", ctrl);
		_cleanup_free_ char *have = xasprintf(",%s,", base);

		if (strstr(have, pat) != NULL)
			return xasprintf("%s%s", mounts[i], path);
	}
	fail_msg("no hierarchy for %s", ctrl);
	return NULL;
}

static char *read_ctl(const char *ctrl, const char *path, const char *file)
{
	_cleanup_free_ char *d = ctrl_dir(ctrl, path);
	char *v = NULL;

	if (rt_cgfs_read(d, file, &v) < 0)
		fail_msg("read %s/%s: %s", d, file, strerror(errno));
	return v;
}

static bool exists_anywhere(const char *path)
{
	char mounts[32][256];
	size_t n = cgroup_mounts(mounts, 32);

	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *d = xasprintf("%s%s", mounts[i], path);
		if (access(d, F_OK) == 0)
			return true;
	}
	return false;
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

static struct rt_cgroup *create_ok(const char *path, const struct rt_resources *res)
{
	struct rt_cgroup *cg = NULL;
	struct wren_err *err = NULL;

	if (rt_cgroup_create(path, res, &cg, &err) < 0)
		fail_msg("create %s: %s", path, err->msg);
	return cg;
}

static void test_create_writes_memory_and_pids_limits(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/limits", test_root);
	struct rt_resources res = {.has_memory_limit = true,
				   .memory_limit = 64 << 20,
				   .has_pids_limit = true,
				   .pids_limit = 50};
	struct rt_cgroup *cg = create_ok(path, &res);
	struct wren_err *err = NULL;
	bool v2 = rt_cgroup_host_mode() == RT_CGROUP_V2;
	_cleanup_free_ char *mem =
	    read_ctl("memory", path, v2 ? "memory.max" : "memory.limit_in_bytes");
	_cleanup_free_ char *pids = read_ctl("pids", path, "pids.max");

	assert_string_equal(rt_cgroup_path(cg), path);
	assert_string_equal(mem, "67108864");
	assert_string_equal(pids, "50");
	assert_int_equal(rt_cgroup_dirfd(cg) >= 0, v2);

	/* Update: unlimited pids is "max" */
	res = (struct rt_resources){.has_pids_limit = true, .pids_limit = -1};
	if (rt_cgroup_update(cg, &res, &err) < 0)
		fail_msg("update: %s", err->msg);
	free(pids);
	pids = read_ctl("pids", path, "pids.max");
	assert_string_equal(pids, "max");

	assert_int_equal(rt_cgroup_destroy(cg, &err), 0);
	rt_cgroup_free(cg);
	assert_false(exists_anywhere(path));
}

static void test_cpu_and_swap_limits_use_each_versions_files(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/cpu", test_root);
	struct rt_resources res = {.has_cpu_shares = true,
				   .cpu_shares = 1024,
				   .has_cpu_quota = true,
				   .cpu_quota = 50000,
				   .has_cpu_period = true,
				   .cpu_period = 100000,
				   .has_memory_limit = true,
				   .memory_limit = 64 << 20,
				   .has_memory_swap = true,
				   .memory_swap = 128 << 20};
	struct rt_cgroup *cg = create_ok(path, &res);
	_cleanup_free_ char *mem_dir = ctrl_dir("memory", path);

	if (rt_cgroup_host_mode() == RT_CGROUP_V2) {
		_cleanup_free_ char *w = read_ctl("cpu", path, "cpu.weight");
		_cleanup_free_ char *max = read_ctl("cpu", path, "cpu.max");

		assert_string_equal(w, "39");
		assert_string_equal(max, "50000 100000");
		if (rt_cgfs_exists(mem_dir, "memory.swap.max")) {
			_cleanup_free_ char *sw = read_ctl("memory", path, "memory.swap.max");
			assert_string_equal(sw, "67108864"); /* memory+swap minus memory */
		}
	} else {
		_cleanup_free_ char *sh = read_ctl("cpu", path, "cpu.shares");
		_cleanup_free_ char *q = read_ctl("cpu", path, "cpu.cfs_quota_us");
		_cleanup_free_ char *pe = read_ctl("cpu", path, "cpu.cfs_period_us");

		assert_string_equal(sh, "1024");
		assert_string_equal(q, "50000");
		assert_string_equal(pe, "100000");
		if (rt_cgfs_exists(mem_dir, "memory.memsw.limit_in_bytes")) {
			_cleanup_free_ char *sw =
			    read_ctl("memory", path, "memory.memsw.limit_in_bytes");
			assert_string_equal(sw, "134217728");
		}
	}
	assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
	rt_cgroup_free(cg);
}

static void test_kill_with_another_signal_reaches_every_process(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/term", test_root);
	struct rt_cgroup *cg = create_ok(path, NULL);
	struct wren_err *err = NULL;
	pid_t a = sleeper(), b = sleeper();
	int st;

	assert_int_equal(rt_cgroup_attach(cg, a, NULL), 0);
	assert_int_equal(rt_cgroup_attach(cg, b, NULL), 0);
	if (rt_cgroup_kill(cg, SIGTERM, &err) < 0)
		fail_msg("kill: %s", err->msg);
	assert_int_equal(waitpid(a, &st, 0), a);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	assert_int_equal(waitpid(b, &st, 0), b);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
	rt_cgroup_free(cg);
}

/* On a hybrid host the container is in the v2 mount too, as with runc. */
static void test_attach_joins_every_hierarchy(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/joined", test_root);
	struct rt_cgroup *cg = create_ok(path, NULL);
	char mounts[32][256];
	size_t n = cgroup_mounts(mounts, 32);
	pid_t a = sleeper();
	int st;

	assert_int_equal(rt_cgroup_attach(cg, a, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *d = xasprintf("%s%s", mounts[i], path);
		_cleanup_free_ char *procs = NULL;
		char want[16];

		if (rt_cgfs_read(d, "cgroup.procs", &procs) < 0)
			fail_msg("read %s/cgroup.procs: %s", d, strerror(errno));
		snprintf(want, sizeof(want), "%d", (int)a);
		assert_string_equal(procs, want);
	}
	assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
	rt_cgroup_free(cg);
	assert_int_equal(waitpid(a, &st, 0), a);
}

static void test_device_rules_deny_all_then_allow(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/devices", test_root);
	struct rt_device_rule rules[] = {
	    {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
	    {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"},
	    {.allow = true, .type = 'c', .major = 136, .minor = -1, .access = "rw"},
	};
	struct rt_resources res = {.devices = rules, .n_devices = 3};
	struct rt_cgroup *cg;
	_cleanup_free_ char *list = NULL;

	if (rt_cgroup_host_mode() == RT_CGROUP_V2)
		skip(); /* eBPF device filter: the cgroup-v2 issue */
	cg = create_ok(path, &res);
	list = read_ctl("devices", path, "devices.list");
	assert_string_equal(list, "c 1:3 rwm\nc 136:* rw");
	assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
	rt_cgroup_free(cg);
}

/* containerd's CRI resends the device rules with every update: unchanged rules must not be
 * rewritten, since rewriting starts with a deny-all that running processes would see. */
static void test_update_with_the_same_device_rules_writes_nothing(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/devupd", test_root);
	struct rt_device_rule rules[] = {
	    {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
	    {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"},
	    {.allow = true, .type = 'c', .major = 1, .minor = 5, .access = "r"},
	    {.allow = true, .type = 'c', .major = 1, .minor = 5, .access = "w"},
	    {.allow = true, .type = 'c', .major = 10, .minor = 200, .access = "rwm"},
	    {.allow = false, .type = 'c', .major = 10, .minor = 200, .access = "rwm"},
	};
	struct rt_resources res = {.devices = rules, .n_devices = 6};
	struct rt_cgroup *cg;
	_cleanup_free_ char *dir = NULL, *deny = NULL, *list = NULL;
	char buf[4096];
	int in;

	if (rt_cgroup_host_mode() == RT_CGROUP_V2)
		skip();
	cg = create_ok(path, &res);
	dir = ctrl_dir("devices", path);
	deny = xasprintf("%s/devices.deny", dir);
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(in >= 0);
	assert_true(inotify_add_watch(in, deny, IN_CLOSE_WRITE) >= 0);

	assert_int_equal(rt_cgroup_update(cg, &res, NULL), 0);
	assert_int_equal(read(in, buf, sizeof(buf)), -1); /* no write happened */

	res.n_devices = 5; /* without the last deny, 10:200 stays allowed */
	assert_int_equal(rt_cgroup_update(cg, &res, NULL), 0);
	assert_true(read(in, buf, sizeof(buf)) > 0);
	list = read_ctl("devices", path, "devices.list");
	assert_string_equal(list, "c 1:3 rwm\nc 1:5 rw\nc 10:200 rwm");
	close(in);
	assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
	rt_cgroup_free(cg);
}

static void test_failed_create_leaves_nothing(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/fails/deeper", test_root);
	_cleanup_free_ char *parent = xasprintf("%s/fails", test_root);
	struct rt_resources res = {.cpu_cpus = "4096-4097"};
	struct rt_cgroup *cg = NULL;
	struct wren_err *err = NULL;

	assert_int_equal(rt_cgroup_create(path, &res, &cg, &err), -1);
	assert_null(cg);
	assert_non_null(strstr(err->msg, "cpuset.cpus"));
	wren_err_free(err);
	assert_false(exists_anywhere(path));
	assert_false(exists_anywhere(parent));
}

static void test_attach_pids_freeze_kill_destroy(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/c1", test_root);
	struct rt_resources res = {.has_memory_limit = true,
				   .memory_limit = 64 << 20,
				   .has_pids_limit = true,
				   .pids_limit = 50};
	struct rt_cgroup *cg = create_ok(path, &res);
	struct wren_err *err = NULL;
	pid_t child = sleeper(), *pids = NULL;
	size_t n = 0;
	int st;

	if (rt_cgroup_attach(cg, child, &err) < 0)
		fail_msg("attach: %s", err->msg);
	if (rt_cgroup_pids(cg, &pids, &n, &err) < 0)
		fail_msg("pids: %s", err->msg);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], child);
	free(pids);

	if (rt_cgroup_freeze(cg, true, &err) < 0)
		fail_msg("freeze: %s", err->msg);
	if (rt_cgroup_host_mode() == RT_CGROUP_V1) {
		_cleanup_free_ char *fs = read_ctl("freezer", path, "freezer.state");
		assert_string_equal(fs, "FROZEN");
	}
	if (rt_cgroup_freeze(cg, false, &err) < 0)
		fail_msg("thaw: %s", err->msg);
	if (rt_cgroup_host_mode() == RT_CGROUP_V1) {
		_cleanup_free_ char *fs = read_ctl("freezer", path, "freezer.state");
		assert_string_equal(fs, "THAWED");
	}

	if (rt_cgroup_kill(cg, SIGKILL, &err) < 0)
		fail_msg("kill: %s", err->msg);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);

	if (rt_cgroup_destroy(cg, &err) < 0)
		fail_msg("destroy: %s", err->msg);
	assert_false(exists_anywhere(path));
	/* idempotent */
	assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
	rt_cgroup_free(cg);
}

static void test_destroy_kills_what_is_left(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/left", test_root);
	struct rt_cgroup *cg = create_ok(path, NULL);
	struct wren_err *err = NULL;
	pid_t a = sleeper(), b = sleeper();
	int st;

	assert_int_equal(rt_cgroup_attach(cg, a, NULL), 0);
	assert_int_equal(rt_cgroup_attach(cg, b, NULL), 0);
	if (rt_cgroup_destroy(cg, &err) < 0)
		fail_msg("destroy: %s", err->msg);
	rt_cgroup_free(cg);
	assert_false(exists_anywhere(path));
	assert_int_equal(waitpid(a, &st, 0), a);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(waitpid(b, &st, 0), b);
	assert_true(WIFSIGNALED(st));
}

static void test_open_and_cleanup_of_a_missing_cgroup(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/never", test_root);
	struct rt_cgroup *cg = NULL;
	struct wren_err *err = NULL;

	assert_int_equal(rt_cgroup_open(path, &cg, &err), -1);
	assert_int_equal(err->code, WREN_E_NOT_FOUND);
	wren_err_free(err);
	err = NULL;
	assert_int_equal(rt_cgroup_cleanup(path, &err), 0);
	assert_null(err);
}

static void test_cleanup_removes_an_existing_cgroup(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/cleanup", test_root);
	struct rt_cgroup *cg = create_ok(path, NULL);
	struct wren_err *err = NULL;
	pid_t a = sleeper();
	int st;

	assert_int_equal(rt_cgroup_attach(cg, a, NULL), 0);
	rt_cgroup_free(cg); /* as the shim's delete action: no live object */
	if (rt_cgroup_cleanup(path, &err) < 0)
		fail_msg("cleanup: %s", err->msg);
	assert_false(exists_anywhere(path));
	assert_int_equal(waitpid(a, &st, 0), a);
}

static int setup(void **state)
{
	if (geteuid() != 0) {
		fprintf(stderr, "cgroup tests need root\n");
		return -1;
	}
	snprintf(test_root, sizeof(test_root), "/wren-test-%d", (int)getpid());
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
	if (exists_anywhere(test_root)) {
		fprintf(stderr, "%s left behind\n", test_root);
		return -1;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shares_map_to_weight_as_runc_does),
	    cmocka_unit_test(test_blkio_weight_maps_to_io_weight),
	    cmocka_unit_test(test_path_for_each_cgroups_path_form),
	    cmocka_unit_test(test_systemd_path_needs_the_systemd_driver),
	    cmocka_unit_test(test_paths_that_climb_or_name_the_root_are_refused),
	    cmocka_unit_test(test_create_writes_memory_and_pids_limits),
	    cmocka_unit_test(test_cpu_and_swap_limits_use_each_versions_files),
	    cmocka_unit_test(test_kill_with_another_signal_reaches_every_process),
	    cmocka_unit_test(test_attach_joins_every_hierarchy),
	    cmocka_unit_test(test_device_rules_deny_all_then_allow),
	    cmocka_unit_test(test_update_with_the_same_device_rules_writes_nothing),
	    cmocka_unit_test(test_failed_create_leaves_nothing),
	    cmocka_unit_test(test_attach_pids_freeze_kill_destroy),
	    cmocka_unit_test(test_destroy_kills_what_is_left),
	    cmocka_unit_test(test_open_and_cleanup_of_a_missing_cgroup),
	    cmocka_unit_test(test_cleanup_removes_an_existing_cgroup),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
