/* cgroups: the pure mappings, path forms, and a real cgroup on this host's hierarchy (v1 here,
 * v2 on a pure v2 host): create with limits, attach, list, freeze, kill, destroy. Everything
 * lives below /wren-test-<pid> and is removed by the group teardown whatever happens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
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

/* The first whole disk of the machine (/sys/block), as "major:minor"; false if there is none. */
static bool first_disk(int64_t *major, int64_t *minor)
{
	DIR *dir = opendir("/sys/block");
	struct dirent *de;
	bool found = false;

	while (!found && dir && (de = readdir(dir)) != NULL) {
		_cleanup_free_ char *f = xasprintf("/sys/block/%s/dev", de->d_name);
		_cleanup_free_ char *dev = NULL;

		if (de->d_name[0] == '.' || read_file(f, 32, &dev, NULL) < 0)
			continue;
		found = sscanf(dev, "%" SCNd64 ":%" SCNd64, major, minor) == 2;
	}
	if (dir)
		closedir(dir);
	return found;
}

/* blockIO's throttle lists: v1 blkio.throttle.*_device lines, v2 keys of io.max; a rate of 0
 * lifts the limit again (the line goes away on v1, the key reads "max" on v2). */
static void test_blkio_throttles_land_in_each_versions_files(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/throttle", test_root);
	bool v2 = rt_cgroup_host_mode() == RT_CGROUP_V2;
	struct rt_blkio_device rd = {.rate = 1048576}, wi = {.rate = 100};
	struct rt_resources res = {0};
	struct wren_err *err = NULL;
	struct rt_cgroup *cg;
	_cleanup_free_ char *want = NULL;
	char *got;

	if (!first_disk(&rd.major, &rd.minor))
		skip(); /* no block device on this machine (a 9p-rooted guest) */
	wi.major = rd.major;
	wi.minor = rd.minor;
	res.blkio_lists[RT_BLKIO_READ_BPS] = &rd;
	res.n_blkio[RT_BLKIO_READ_BPS] = 1;
	res.blkio_lists[RT_BLKIO_WRITE_IOPS] = &wi;
	res.n_blkio[RT_BLKIO_WRITE_IOPS] = 1;
	cg = create_ok(path, &res);
	if (v2) {
		got = read_ctl("io", path, "io.max");
		want =
		    xasprintf("%" PRId64 ":%" PRId64 " rbps=1048576 wbps=max riops=max wiops=100",
			      rd.major, rd.minor);
		assert_string_equal(got, want);
	} else {
		got = read_ctl("blkio", path, "blkio.throttle.read_bps_device");
		want = xasprintf("%" PRId64 ":%" PRId64 " 1048576", rd.major, rd.minor);
		assert_string_equal(got, want);
		free(got);
		got = read_ctl("blkio", path, "blkio.throttle.write_iops_device");
		free(want);
		want = xasprintf("%" PRId64 ":%" PRId64 " 100", rd.major, rd.minor);
		assert_string_equal(got, want);
	}
	free(got);

	rd.rate = 0;
	res.n_blkio[RT_BLKIO_WRITE_IOPS] = 0;
	if (rt_cgroup_update(cg, &res, &err) < 0)
		fail_msg("update: %s", err->msg);
	got = v2 ? read_ctl("io", path, "io.max")
		 : read_ctl("blkio", path, "blkio.throttle.read_bps_device");
	if (v2)
		assert_non_null(strstr(got, "rbps=max"));
	else
		assert_string_equal(got, "");
	free(got);

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

/* ---- device rules on v2: the eBPF program --------------------------------------------------- */

/* A v2 hierarchy to attach device programs to: the host's own on pure v2, the hybrid layout's
 * "unified" mount otherwise (the kernel runs a v2 cgroup's device programs on hybrid hosts too). */
static const char *v2_root(void)
{
	struct statfs fs;

	if (rt_cgroup_host_mode() == RT_CGROUP_V2)
		return "/sys/fs/cgroup";
	if (statfs("/sys/fs/cgroup/unified", &fs) == 0 && fs.f_type == 0x63677270)
		return "/sys/fs/cgroup/unified";
	return NULL;
}

/* How many device programs are attached to the cgroup dir itself. */
static unsigned attached_programs(const char *dir)
{
	uint32_t ids[16];
	union bpf_attr a;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)fd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = 16;
	if (syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof(a)) < 0)
		fail_msg("BPF_PROG_QUERY %s: %s", dir, strerror(errno));
	close(fd);
	return a.query.prog_cnt;
}

/* 0 if a process in the v2 cgroup dir may open a char device major:minor with flags, else the
 * errno. The node is made by this (outside) process in a fresh directory, so the answer is the
 * cgroup's alone; with flags -1 the child makes the node itself (the 'm' access). */
static int open_in_cgroup(const char *dir, unsigned major, unsigned minor, int flags)
{
	char tmp[] = "/tmp/wren-dev-XXXXXX";
	_cleanup_free_ char *node = NULL;
	int st;
	pid_t pid;

	assert_non_null(mkdtemp(tmp));
	node = xasprintf("%s/node", tmp);
	if (flags >= 0 && mknod(node, S_IFCHR | 0666, makedev(major, minor)) < 0)
		fail_msg("mknod %s: %s", node, strerror(errno));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char b[16];
		int fd;

		snprintf(b, sizeof(b), "%d", (int)getpid());
		if (rt_cgfs_write(dir, "cgroup.procs", b, NULL) < 0)
			_exit(255);
		if (flags < 0)
			_exit(mknod(node, S_IFCHR | 0666, makedev(major, minor)) < 0 ? errno : 0);
		fd = open(node, flags | O_CLOEXEC);
		_exit(fd < 0 ? errno : 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	unlink(node);
	rmdir(tmp);
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 255);
	return WEXITSTATUS(st);
}

static size_t program_length(const struct rt_device_rule *rules, size_t n)
{
	struct bpf_insn *insn = NULL;
	struct wren_err *err = NULL;
	size_t len = 0;

	if (rt_cg2_devices_program(rules, n, &insn, &len, &err) < 0)
		fail_msg("program: %s", err->msg);
	free(insn);
	return len;
}

#define DENY_ALL                                                                                   \
	{                                                                                          \
		.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"             \
	}
#define RULE(al, t, ma, mi, acc)                                                                   \
	{                                                                                          \
		.allow = al, .type = t, .major = ma, .minor = mi, .access = acc                    \
	}

/* 6 instructions read the context, 2 return the default; an exception costs a type test, an
 * access test (3) unless it is "rwm", a test per non-wildcard number, and 2 to return. */
static void test_device_program_has_one_block_per_reduced_rule(void **state)
{
	struct rt_device_rule deny[] = {DENY_ALL};
	struct rt_device_rule two[] = {DENY_ALL, RULE(true, 'c', 1, 3, "rwm"),
				       RULE(true, 'c', 136, -1, "rw")};
	/* r and w on the same device merge into one exception, as v1's devices.list shows */
	struct rt_device_rule merged[] = {DENY_ALL, RULE(true, 'c', 1, 5, "r"),
					  RULE(true, 'c', 1, 5, "w")};
	/* a later deny takes back an earlier allow; a later "a" resets everything before it */
	struct rt_device_rule undone[] = {DENY_ALL, RULE(true, 'c', 10, 200, "rwm"),
					  RULE(false, 'c', 10, 200, "rwm")};
	struct rt_device_rule reset[] = {RULE(true, 'b', 8, 0, "rwm"), DENY_ALL};
	struct rt_device_rule bad[] = {RULE(true, 'x', 1, 3, "rwm")};
	struct rt_device_rule allow_but[] = {RULE(true, 'a', -1, -1, "rwm"),
					     RULE(false, 'c', 1, 1, "rwm")};
	struct bpf_insn *insn = NULL;
	struct wren_err *err = NULL;
	size_t n = 0;

	assert_int_equal(program_length(deny, 1), 8);
	assert_int_equal(program_length(two, 3), 8 + 5 + 7);
	assert_int_equal(program_length(merged, 3), 8 + 8);
	assert_int_equal(program_length(undone, 3), 8);
	assert_int_equal(program_length(reset, 2), 8);
	assert_int_equal(program_length(NULL, 0), 8);

	/* default allow: the exception returns 0, the end returns 1 */
	assert_int_equal(rt_cg2_devices_program(allow_but, 2, &insn, &n, &err), 0);
	assert_int_equal(n, 8 + 5);
	assert_int_equal(insn[n - 4].imm, 0);
	assert_int_equal(insn[n - 2].imm, 1);
	assert_int_equal(insn[n - 1].code, BPF_JMP | BPF_EXIT);
	free(insn);

	assert_int_equal(rt_cg2_devices_program(bad, 1, &insn, &n, &err), -1);
	assert_int_equal(err->code, WREN_E_INVALID_ARGUMENT);
	assert_non_null(strstr(err->msg, "devices[0]: bad type 'x'"));
	wren_err_free(err);
}

/* The kernel loads the program, and a process in the cgroup gets exactly what the rules grant:
 * read/write/mknod per device, wildcards, and an Update that swaps the program in place. */
static void test_device_program_decides_in_the_kernel(void **state)
{
	const char *root = v2_root();
	_cleanup_free_ char *dir = NULL;
	struct rt_device_rule rules[] = {DENY_ALL,
					 RULE(true, 'c', 1, 3, "rwm"),
					 RULE(true, 'c', 1, 5, "r"),
					 RULE(true, 'c', -1, 8, "w"),
					 RULE(true, 'c', 1, 7, "r"),
					 RULE(false, 'c', 1, 7, "r")};
	struct rt_resources res = {.devices = rules, .n_devices = 6};
	struct wren_err *err = NULL;
	int fd;

	if (root == NULL)
		skip(); /* no cgroup2 mount at all: nothing to attach to */
	dir = xasprintf("%s%s-bpf", root, test_root);
	assert_int_equal(mkdir(dir, 0755), 0);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	if (rt_cg2_set_devices(fd, &res, &err) < 0)
		fail_msg("set devices: %s", err->msg);
	assert_int_equal(attached_programs(dir), 1);

	assert_int_equal(open_in_cgroup(dir, 1, 3, O_RDWR), 0);
	assert_int_equal(open_in_cgroup(dir, 1, 3, -1), 0); /* mknod: 'm' */
	assert_int_equal(open_in_cgroup(dir, 1, 5, O_RDONLY), 0);
	assert_int_equal(open_in_cgroup(dir, 1, 5, O_WRONLY), EPERM);
	assert_int_equal(open_in_cgroup(dir, 1, 5, -1), EPERM);
	assert_int_equal(open_in_cgroup(dir, 1, 8, O_WRONLY), 0); /* c *:8 w */
	assert_int_equal(open_in_cgroup(dir, 1, 8, O_RDONLY), EPERM);
	assert_int_equal(open_in_cgroup(dir, 1, 7, O_RDONLY), EPERM); /* allowed, then denied */
	assert_int_equal(open_in_cgroup(dir, 1, 9, O_RDONLY), EPERM); /* never named */

	/* Update: /dev/full readable now, /dev/zero gone; still one program, not two */
	res.n_devices = 5;
	rules[2] = (struct rt_device_rule)RULE(false, 'c', 1, 5, "r");
	if (rt_cg2_set_devices(fd, &res, &err) < 0)
		fail_msg("update devices: %s", err->msg);
	assert_int_equal(attached_programs(dir), 1);
	assert_int_equal(open_in_cgroup(dir, 1, 7, O_RDONLY), 0);
	assert_int_equal(open_in_cgroup(dir, 1, 5, O_RDONLY), EPERM);
	assert_int_equal(open_in_cgroup(dir, 1, 3, O_RDWR), 0);

	/* an Update without device rules leaves them as they are */
	res.n_devices = 0;
	assert_int_equal(rt_cg2_set_devices(fd, &res, NULL), 0);
	assert_int_equal(attached_programs(dir), 1);
	assert_int_equal(open_in_cgroup(dir, 1, 5, O_RDONLY), EPERM);

	close(fd);
	assert_int_equal(rmdir(dir), 0); /* the attachment goes with the cgroup */
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

	cg = create_ok(path, &res);
	if (rt_cgroup_host_mode() == RT_CGROUP_V2) {
		/* no devices.list on v2: ask the kernel, through a process in the cgroup */
		_cleanup_free_ char *dir = ctrl_dir("devices", path);

		assert_int_equal(attached_programs(dir), 1);
		assert_int_equal(open_in_cgroup(dir, 1, 3, O_RDWR), 0);
		/* a pty that does not exist: the driver's error, not the filter's */
		assert_int_not_equal(open_in_cgroup(dir, 136, 9, O_RDWR | O_NOCTTY | O_NONBLOCK),
				     EPERM);
		assert_int_equal(open_in_cgroup(dir, 1, 5, O_RDONLY), EPERM);
	} else {
		list = read_ctl("devices", path, "devices.list");
		assert_string_equal(list, "c 1:3 rwm\nc 136:* rw");
	}
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

	cg = create_ok(path, &res);
	dir = ctrl_dir("devices", path);
	if (rt_cgroup_host_mode() == RT_CGROUP_V2) {
		/* v2 swaps the whole program atomically (BPF_F_REPLACE): no deny-all moment to
		 * avoid, but the update must replace, not pile up, and take effect */
		assert_int_equal(open_in_cgroup(dir, 1, 5, O_RDWR), 0);
		assert_int_equal(open_in_cgroup(dir, 10, 200, O_RDWR), EPERM);
		assert_int_equal(rt_cgroup_update(cg, &res, NULL), 0);
		assert_int_equal(attached_programs(dir), 1);
		res.n_devices = 5;
		assert_int_equal(rt_cgroup_update(cg, &res, NULL), 0);
		assert_int_equal(attached_programs(dir), 1);
		/* allowed now: whatever the open says (no tun module: ENODEV), not EPERM */
		assert_int_not_equal(open_in_cgroup(dir, 10, 200, O_RDWR), EPERM);
		goto out;
	}
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
out:
	assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
	rt_cgroup_free(cg);
}

/* Rules that do not start by denying everything still start from a default deny, as runc
 * writes them. */
static void test_device_rules_without_a_deny_all_start_from_deny(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/devnodeny", test_root);
	struct rt_device_rule rules[] = {RULE(true, 'c', 1, 3, "rwm"), RULE(true, 'c', 1, 5, "r")};
	struct rt_resources res = {.devices = rules, .n_devices = 2};
	struct rt_cgroup *cg;
	_cleanup_free_ char *list = NULL;

	if (rt_cgroup_host_mode() == RT_CGROUP_V2)
		skip(); /* the eBPF program is default deny by construction */
	cg = create_ok(path, &res);
	list = read_ctl("devices", path, "devices.list");
	assert_string_equal(list, "c 1:3 rwm\nc 1:5 r");
	assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
	rt_cgroup_free(cg);
}

/* The kernel takes one rule per write(2): all the allow rules go through one open devices.allow
 * (one close after writing), and the list is the one a file per rule gives. */
static void test_device_rules_are_written_through_one_open_file(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/devonefd", test_root);
	_cleanup_free_ char *dir = NULL, *allow = NULL, *list = NULL;
	struct rt_device_rule rules[] = {
	    DENY_ALL,
	    RULE(true, 'c', -1, -1, "m"),
	    RULE(true, 'b', -1, -1, "m"),
	    RULE(true, 'c', 1, 3, "rwm"),
	    RULE(true, 'c', 1, 5, "rwm"),
	    RULE(true, 'c', 136, -1, "rwm"),
	    RULE(true, 'c', 10, 200, "rwm"),
	    RULE(false, 'c', 1, 5, "w"),
	};
	struct rt_resources res = {.devices = rules, .n_devices = 8};
	struct rt_cgroup *cg;
	char buf[4096];
	ssize_t len;
	int in, closes = 0;

	if (rt_cgroup_host_mode() == RT_CGROUP_V2)
		skip(); /* no devices files on v2 */
	/* an empty cgroup to watch before the rules go in; the update then writes them all */
	cg = create_ok(path, NULL);
	dir = ctrl_dir("devices", path);
	allow = xasprintf("%s/devices.allow", dir);
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(in >= 0);
	assert_true(inotify_add_watch(in, allow, IN_CLOSE_WRITE) >= 0);
	if (rt_cgroup_update(cg, &res, NULL) < 0)
		fail_msg("update %s", path);
	len = read(in, buf, sizeof(buf));
	for (char *p = buf; len > 0 && p < buf + len;
	     p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len)
		closes++;
	close(in);
	assert_int_equal(closes, 1);
	list = read_ctl("devices", path, "devices.list");
	assert_string_equal(list,
			    "c *:* m\nb *:* m\nc 1:3 rwm\nc 1:5 rm\nc 136:* rwm\nc 10:200 rwm");
	assert_int_equal(rt_cgroup_destroy(cg, NULL), 0);
	rt_cgroup_free(cg);
}

/* Every cpuset level on the way gets cpus and mems, whether made now or found empty (made by
 * someone else and never set), from the level above it. */
static void test_cpuset_levels_made_or_found_empty_get_their_parents(void **state)
{
	_cleanup_free_ char *mid = xasprintf("%s/cs/mid", test_root);
	_cleanup_free_ char *path = xasprintf("%s/cs/mid/leaf", test_root);
	_cleanup_free_ char *root_cpus = NULL, *root_mems = NULL, *mid_dir = NULL;
	const char *levels[] = {test_root, mid, path};
	struct rt_cgroup *cg;

	if (rt_cgroup_host_mode() == RT_CGROUP_V2)
		skip(); /* v2 cpusets inherit their parent's when empty */
	root_cpus = read_ctl("cpuset", "", "cpuset.cpus");
	root_mems = read_ctl("cpuset", "", "cpuset.mems");
	mid_dir = ctrl_dir("cpuset", mid);
	assert_int_equal(mkdir_p(mid_dir, 0755), 0);
	cg = create_ok(path, NULL);
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		_cleanup_free_ char *cpus = read_ctl("cpuset", levels[i], "cpuset.cpus");
		_cleanup_free_ char *mems = read_ctl("cpuset", levels[i], "cpuset.mems");

		assert_string_equal(cpus, root_cpus);
		assert_string_equal(mems, root_mems);
	}
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

/* Below a parent that is there already (a namespace's cgroup, made by its first container), a
 * create makes only the leaf, in every hierarchy, and a failed one removes only what it made. */
static void test_create_below_an_existing_parent_leaves_the_parent(void **state)
{
	_cleanup_free_ char *parent = xasprintf("%s/kept", test_root);
	_cleanup_free_ char *leaf = xasprintf("%s/kept/ok", test_root);
	_cleanup_free_ char *bad = xasprintf("%s/kept/bad", test_root);
	struct rt_resources bad_res = {.cpu_cpus = "4096-4097"};
	struct rt_cgroup *p = create_ok(parent, NULL), *c = create_ok(leaf, NULL), *b = NULL;
	static const char *const ctrls[] = {"cpu", "cpuset", "memory", "pids", "freezer"};
	struct wren_err *err = NULL;

	for (size_t i = 0; i < sizeof(ctrls) / sizeof(ctrls[0]); i++) {
		_cleanup_free_ char *d = ctrl_dir(ctrls[i], leaf);
		assert_int_equal(access(d, F_OK), 0);
	}
	assert_int_equal(rt_cgroup_create(bad, &bad_res, &b, &err), -1);
	wren_err_free(err);
	assert_false(exists_anywhere(bad));
	for (size_t i = 0; i < sizeof(ctrls) / sizeof(ctrls[0]); i++) {
		_cleanup_free_ char *d = ctrl_dir(ctrls[i], parent);
		assert_int_equal(access(d, F_OK), 0);
	}
	assert_int_equal(rt_cgroup_destroy(c, NULL), 0);
	rt_cgroup_free(c);
	assert_int_equal(rt_cgroup_destroy(p, NULL), 0);
	rt_cgroup_free(p);
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

/* A container with a cgroup namespace may make cgroups below its own and move processes there:
 * removal finds them (the kernel refuses the rmdir while they are there), kills what runs in
 * them and removes them, deepest first. */
static void test_destroy_removes_the_cgroups_a_container_made_below_its_own(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/nested", test_root);
	struct rt_cgroup *cg = create_ok(path, NULL);
	struct wren_err *err = NULL;
	char mounts[32][256];
	size_t n = cgroup_mounts(mounts, 32);
	pid_t a = sleeper();
	char b[16];
	int st;

	assert_int_equal(rt_cgroup_attach(cg, a, NULL), 0);
	snprintf(b, sizeof(b), "%d", (int)a);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *empty = xasprintf("%s%s/empty", mounts[i], path);
		_cleanup_free_ char *deeper = xasprintf("%s%s/busy/deeper", mounts[i], path);

		assert_int_equal(mkdir_p(empty, 0755), 0);
		assert_int_equal(mkdir_p(deeper, 0755), 0);
		/* cpuset: a cgroup without cpus takes no task; the process stays above */
		if (rt_cgfs_write(deeper, "cgroup.procs", b, NULL) < 0)
			assert_int_equal(errno, ENOSPC);
	}
	if (rt_cgroup_destroy(cg, &err) < 0)
		fail_msg("destroy: %s", err->msg);
	rt_cgroup_free(cg);
	assert_false(exists_anywhere(path));
	assert_int_equal(waitpid(a, &st, 0), a);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/* Only child cgroups, no process: no kill, and still nothing left. */
static void test_destroy_removes_empty_child_cgroups(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/children", test_root);
	struct rt_cgroup *cg = create_ok(path, NULL);
	struct wren_err *err = NULL;
	char mounts[32][256];
	size_t n = cgroup_mounts(mounts, 32);

	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *d = xasprintf("%s%s/a/b", mounts[i], path);

		assert_int_equal(mkdir_p(d, 0755), 0);
	}
	if (rt_cgroup_destroy(cg, &err) < 0)
		fail_msg("destroy: %s", err->msg);
	rt_cgroup_free(cg);
	assert_false(exists_anywhere(path));
}

/* What the kernel hands out record by record comes back whole, whether it ends just short of
 * the first buffer, past it, or far past it. */
static void test_files_are_read_whole_around_the_buffer_size(void **state)
{
	const size_t sizes[] = {0, 1, 4000, 4090, 4096, 5000, 70000};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char tmp[] = "/tmp/wren-cgfs-XXXXXX";
		int fd = mkostemp(tmp, O_CLOEXEC);
		char *want = xmalloc(sizes[i] + 1), *got = NULL;
		size_t len = 0;

		assert_true(fd >= 0);
		for (size_t j = 0; j < sizes[i]; j++)
			want[j] = (char)('a' + j % 26);
		assert_int_equal(write_all(fd, want, sizes[i]), (ssize_t)sizes[i]);
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		assert_int_equal(rt_cgfs_read_fd(fd, 1 << 20, &got, &len), 0);
		assert_int_equal(len, sizes[i]);
		assert_memory_equal(got, want, sizes[i]);
		free(got);
		free(want);
		close(fd);
		unlink(tmp);
	}
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

	if (v2_root() != NULL) { /* a failed kernel test leaves its cgroup */
		_cleanup_free_ char *bpf = xasprintf("%s%s-bpf", v2_root(), test_root);
		rmdir(bpf);
	}
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
	    cmocka_unit_test(test_blkio_throttles_land_in_each_versions_files),
	    cmocka_unit_test(test_cpu_and_swap_limits_use_each_versions_files),
	    cmocka_unit_test(test_kill_with_another_signal_reaches_every_process),
	    cmocka_unit_test(test_attach_joins_every_hierarchy),
	    cmocka_unit_test(test_device_program_has_one_block_per_reduced_rule),
	    cmocka_unit_test(test_device_program_decides_in_the_kernel),
	    cmocka_unit_test(test_device_rules_deny_all_then_allow),
	    cmocka_unit_test(test_update_with_the_same_device_rules_writes_nothing),
	    cmocka_unit_test(test_device_rules_without_a_deny_all_start_from_deny),
	    cmocka_unit_test(test_device_rules_are_written_through_one_open_file),
	    cmocka_unit_test(test_cpuset_levels_made_or_found_empty_get_their_parents),
	    cmocka_unit_test(test_failed_create_leaves_nothing),
	    cmocka_unit_test(test_create_below_an_existing_parent_leaves_the_parent),
	    cmocka_unit_test(test_attach_pids_freeze_kill_destroy),
	    cmocka_unit_test(test_destroy_kills_what_is_left),
	    cmocka_unit_test(test_destroy_removes_the_cgroups_a_container_made_below_its_own),
	    cmocka_unit_test(test_destroy_removes_empty_child_cgroups),
	    cmocka_unit_test(test_files_are_read_whole_around_the_buffer_size),
	    cmocka_unit_test(test_open_and_cleanup_of_a_missing_cgroup),
	    cmocka_unit_test(test_cleanup_removes_an_existing_cgroup),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
