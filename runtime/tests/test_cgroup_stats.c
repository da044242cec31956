/* cgroup stats and OOM watch: the readers on fake cgroup trees in a temp dir (v1 controllers and
 * a v2 directory, files as the kernel writes them), the v2 OOM watch on a fake memory.events, and
 * the v1 OOM watch on a real memory cgroup with a child that overruns its limit (skipped where no
 * v1 memory hierarchy is mounted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup_stats.h"
#include "runtime/oom.h"
#include "runtime/util.h"

static char tmp[64];

static int make_tmp(void **state)
{
	snprintf(tmp, sizeof(tmp), "/tmp/wren-cgstats-XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int remove_tmp(void **state)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmp);

	return system(cmd) == 0 ? 0 : -1;
}

/* put("memory/memory.stat", "cache 1\n") writes tmp/memory/memory.stat, making the dirs. */
static char *put(const char *rel, const char *content)
{
	char *path = xasprintf("%s/%s", tmp, rel);
	char *slash = strrchr(path, '/');

	*slash = '\0';
	assert_int_equal(mkdir_p(path, 0755), 0);
	*slash = '/';
	assert_int_equal(write_file(path, content, strlen(content), true), 0);
	return path;
}

static char *dir(const char *rel)
{
	return xasprintf("%s/%s", tmp, rel);
}

static void fake_v1_tree(void)
{
	free(put("cpuacct/cpuacct.usage", "123456789\n"));
	free(put("cpuacct/cpuacct.usage_percpu", "100000000 23456789 \n"));
	free(put("cpuacct/cpuacct.stat", "user 7\nsystem 3\n"));
	free(put("cpu/cpu.stat", "nr_periods 10\nnr_throttled 2\nthrottled_time 5000\n"
				 "nr_bursts 0\nburst_time 0\n"));
	free(put("memory/memory.stat",
		 "cache 4096\nrss 57344\nrss_huge 0\nshmem 0\nmapped_file 0\ndirty 0\n"
		 "writeback 0\nswap 0\npgpgin 374\npgpgout 359\npgfault 70\npgmajfault 1\n"
		 "inactive_anon 53248\nactive_anon 4096\ninactive_file 8192\nactive_file 0\n"
		 "unevictable 0\nhierarchical_memory_limit 67108864\n"
		 "hierarchical_memsw_limit 9223372036854771712\ntotal_cache 4096\n"
		 "total_rss 57344\ntotal_inactive_file 8192\ntotal_pgmajfault 1\n"
		 "total_unevictable 0\nsome_future_key 99\n"));
	free(put("memory/memory.usage_in_bytes", "598016\n"));
	free(put("memory/memory.max_usage_in_bytes", "700000\n"));
	free(put("memory/memory.failcnt", "4\n"));
	free(put("memory/memory.limit_in_bytes", "67108864\n"));
	free(put("memory/memory.memsw.usage_in_bytes", "600000\n"));
	free(put("memory/memory.memsw.max_usage_in_bytes", "710000\n"));
	free(put("memory/memory.memsw.failcnt", "0\n"));
	free(put("memory/memory.memsw.limit_in_bytes", "9223372036854771712\n"));
	free(put("memory/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"));
	free(put("pids/pids.current", "3\n"));
	free(put("pids/pids.max", "42\n"));
	free(put("blkio/blkio.throttle.io_service_bytes_recursive",
		 "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Discard 0\n"
		 "8:0 Total 12288\nTotal 12288\n"));
	free(put("blkio/blkio.throttle.io_serviced_recursive",
		 "8:0 Read 1\n8:0 Write 2\nTotal 3\n"));
}

static struct rt_cg1_stat_dirs v1_dirs(void)
{
	struct rt_cg1_stat_dirs d = {
	    .cpu = dir("cpu"),
	    .cpuacct = dir("cpuacct"),
	    .memory = dir("memory"),
	    .pids = dir("pids"),
	    .blkio = dir("blkio"),
	    .hugetlb = NULL,
	};
	return d;
}

static void free_dirs(struct rt_cg1_stat_dirs *d)
{
	free((char *)d->cpu);
	free((char *)d->cpuacct);
	free((char *)d->memory);
	free((char *)d->pids);
	free((char *)d->blkio);
	free((char *)d->hugetlb);
}

static void test_v1_reads_cpu_memory_pids_and_blkio(void **state)
{
	struct rt_cg1_stat_dirs d;
	struct rt_cg1_stats s;
	struct wren_err *err = NULL;
	long hz = sysconf(_SC_CLK_TCK);

	make_tmp(state);
	fake_v1_tree();
	d = v1_dirs();
	if (rt_cgroup_stats_read_v1(&d, &s, &err) < 0)
		fail_msg("read: %s", err->msg);
	assert_true(s.has_cpu && s.has_memory && s.has_pids && s.has_blkio);
	assert_int_equal(s.cpu.total, 123456789);
	assert_int_equal(s.cpu.n_per_cpu, 2);
	assert_int_equal(s.cpu.per_cpu[0], 100000000);
	assert_int_equal(s.cpu.per_cpu[1], 23456789);
	/* cpuacct.stat counts clock ticks */
	assert_int_equal(s.cpu.user, 7 * (1000000000ULL / (uint64_t)hz));
	assert_int_equal(s.cpu.kernel, 3 * (1000000000ULL / (uint64_t)hz));
	assert_int_equal(s.cpu.periods, 10);
	assert_int_equal(s.cpu.throttled_periods, 2);
	assert_int_equal(s.cpu.throttled_time, 5000);
	assert_int_equal(s.memory.cache, 4096);
	assert_int_equal(s.memory.rss, 57344);
	assert_int_equal(s.memory.pgpgin, 374);
	assert_int_equal(s.memory.pgmajfault, 1);
	assert_int_equal(s.memory.inactive_file, 8192);
	assert_int_equal(s.memory.total_inactive_file, 8192);
	assert_int_equal(s.memory.hierarchical_memory_limit, 67108864);
	assert_int_equal(s.memory.hierarchical_memsw_limit, 9223372036854771712ULL);
	assert_int_equal(s.memory.usage.usage, 598016);
	assert_int_equal(s.memory.usage.max, 700000);
	assert_int_equal(s.memory.usage.failcnt, 4);
	assert_int_equal(s.memory.usage.limit, 67108864);
	assert_int_equal(s.memory.memsw.usage, 600000);
	assert_int_equal(s.memory.oom_kill, 2);
	assert_int_equal(s.pids.current, 3);
	assert_int_equal(s.pids.limit, 42);
	/* no CFQ files: the throttle layer's counters */
	/* the bare "Total" line is skipped, "8:0 Total" kept */
	assert_int_equal(s.blkio.service_bytes.n, 6);
	assert_string_equal(s.blkio.service_bytes.e[1].op, "Write");
	assert_int_equal(s.blkio.service_bytes.e[1].major, 8);
	assert_int_equal(s.blkio.service_bytes.e[1].minor, 0);
	assert_int_equal(s.blkio.service_bytes.e[1].value, 8192);
	assert_string_equal(s.blkio.service_bytes.e[5].op, "Total");
	assert_int_equal(s.blkio.serviced.n, 2);
	assert_int_equal(s.blkio.queued.n, 0);
	rt_cg1_stats_clear(&s);
	free_dirs(&d);
	remove_tmp(state);
}

static void test_v1_without_swap_or_kmem_files_leaves_them_zero(void **state)
{
	struct rt_cg1_stat_dirs d = {0};
	struct rt_cg1_stats s;
	struct wren_err *err = NULL;

	make_tmp(state);
	free(put("memory/memory.stat", "cache 1\nrss 2\n"));
	free(put("memory/memory.usage_in_bytes", "10\n"));
	free(put("memory/memory.max_usage_in_bytes", "11\n"));
	free(put("memory/memory.failcnt", "0\n"));
	free(put("memory/memory.limit_in_bytes", "9223372036854771712\n"));
	d.memory = dir("memory");
	if (rt_cgroup_stats_read_v1(&d, &s, &err) < 0)
		fail_msg("read: %s", err->msg);
	assert_true(s.has_memory);
	assert_false(s.has_cpu || s.has_pids || s.has_blkio);
	assert_int_equal(s.memory.usage.usage, 10);
	assert_int_equal(s.memory.memsw.usage, 0);
	assert_int_equal(s.memory.kmem.limit, 0);
	rt_cg1_stats_clear(&s);
	free_dirs(&d);
	remove_tmp(state);
}

static void test_v1_pids_max_means_no_limit(void **state)
{
	struct rt_cg1_stat_dirs d = {0};
	struct rt_cg1_stats s;
	struct wren_err *err = NULL;

	make_tmp(state);
	free(put("pids/pids.current", "1\n"));
	free(put("pids/pids.max", "max\n"));
	d.pids = dir("pids");
	if (rt_cgroup_stats_read_v1(&d, &s, &err) < 0)
		fail_msg("read: %s", err->msg);
	assert_int_equal(s.pids.current, 1);
	assert_int_equal(s.pids.limit, 0); /* containerd's v1 reading of "max" */
	rt_cg1_stats_clear(&s);
	free_dirs(&d);
	remove_tmp(state);
}

static void test_v1_prefers_the_cfq_blkio_files(void **state)
{
	struct rt_cg1_stat_dirs d = {0};
	struct rt_cg1_stats s;
	struct wren_err *err = NULL;

	make_tmp(state);
	free(put("blkio/blkio.io_serviced_recursive", "8:16 Read 5\nTotal 5\n"));
	free(put("blkio/blkio.io_service_bytes_recursive", "8:16 Read 20480\nTotal 20480\n"));
	free(put("blkio/blkio.sectors_recursive", "8:16 40\n"));
	free(put("blkio/blkio.throttle.io_serviced_recursive", "8:16 Read 999\n"));
	d.blkio = dir("blkio");
	if (rt_cgroup_stats_read_v1(&d, &s, &err) < 0)
		fail_msg("read: %s", err->msg);
	assert_int_equal(s.blkio.serviced.n, 1);
	assert_int_equal(s.blkio.serviced.e[0].value, 5);
	assert_int_equal(s.blkio.serviced.e[0].minor, 16);
	assert_int_equal(s.blkio.service_bytes.e[0].value, 20480);
	/* "8:16 40": a file without ops */
	assert_int_equal(s.blkio.sectors.n, 1);
	assert_string_equal(s.blkio.sectors.e[0].op, "");
	assert_int_equal(s.blkio.sectors.e[0].value, 40);
	rt_cg1_stats_clear(&s);
	free_dirs(&d);
	remove_tmp(state);
}

static void test_v1_hugetlb_sizes_come_from_the_file_names(void **state)
{
	struct rt_cg1_stat_dirs d = {0};
	struct rt_cg1_stats s;
	struct wren_err *err = NULL;

	make_tmp(state);
	free(put("hugetlb/hugetlb.2MB.usage_in_bytes", "2097152\n"));
	free(put("hugetlb/hugetlb.2MB.max_usage_in_bytes", "4194304\n"));
	free(put("hugetlb/hugetlb.2MB.failcnt", "1\n"));
	free(put("hugetlb/hugetlb.2MB.limit_in_bytes", "9223372036854771712\n"));
	d.hugetlb = dir("hugetlb");
	if (rt_cgroup_stats_read_v1(&d, &s, &err) < 0)
		fail_msg("read: %s", err->msg);
	assert_int_equal(s.n_hugetlb, 1);
	assert_string_equal(s.hugetlb[0].pagesize, "2MB");
	assert_int_equal(s.hugetlb[0].usage, 2097152);
	assert_int_equal(s.hugetlb[0].max, 4194304);
	assert_int_equal(s.hugetlb[0].failcnt, 1);
	rt_cg1_stats_clear(&s);
	free_dirs(&d);
	remove_tmp(state);
}

static void test_v1_missing_cgroup_is_not_found(void **state)
{
	struct rt_cg1_stat_dirs d = {0};
	struct rt_cg1_stats s;
	struct wren_err *err = NULL;

	make_tmp(state);
	d.memory = dir("memory"); /* never made */
	assert_int_equal(rt_cgroup_stats_read_v1(&d, &s, &err), -1);
	assert_int_equal(err->code, WREN_E_NOT_FOUND);
	wren_err_free(err);
	free_dirs(&d);
	remove_tmp(state);
}

static void test_v1_missing_required_file_is_named(void **state)
{
	struct rt_cg1_stat_dirs d = {0};
	struct rt_cg1_stats s;
	struct wren_err *err = NULL;

	make_tmp(state);
	free(put("cpuacct/cpuacct.stat", "user 1\nsystem 1\n"));
	d.cpuacct = dir("cpuacct");
	assert_int_equal(rt_cgroup_stats_read_v1(&d, &s, &err), -1);
	assert_non_null(strstr(err->msg, "cpuacct.usage"));
	assert_int_equal(err->errnum, ENOENT);
	wren_err_free(err);
	free_dirs(&d);
	remove_tmp(state);
}

static void test_v2_reads_cpu_memory_pids_io_hugetlb_and_events(void **state)
{
	_cleanup_free_ char *d = NULL;
	struct rt_cg2_stats s;
	struct wren_err *err = NULL;

	make_tmp(state);
	free(put("c/cpu.stat", "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\n"
			       "nr_periods 4\nnr_throttled 1\nthrottled_usec 700\n"));
	free(put("c/memory.stat", "anon 1000\nfile 2000\nkernel_stack 16384\nslab 300\n"
				  "inactive_file 1500\nactive_file 500\npgfault 77\n"
				  "workingset_refault_anon 3\nworkingset_refault_file 9\n"
				  "thp_collapse_alloc 1\n"));
	free(put("c/memory.current", "4096000\n"));
	free(put("c/memory.max", "max\n"));
	free(put("c/memory.swap.current", "0\n"));
	free(put("c/memory.swap.max", "0\n"));
	free(put("c/memory.peak", "5000000\n"));
	free(put("c/memory.events", "low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n"));
	free(put("c/pids.current", "2\n"));
	free(put("c/pids.max", "max\n"));
	free(put("c/io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
			      "253:1 rbytes=1 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n"));
	free(put("c/hugetlb.2MB.current", "0\n"));
	free(put("c/hugetlb.2MB.max", "max\n"));
	free(put("c/hugetlb.1GB.current", "0\n"));
	free(put("c/hugetlb.1GB.max", "1073741824\n"));
	d = dir("c");
	if (rt_cgroup_stats_read_v2(d, &s, &err) < 0)
		fail_msg("read: %s", err->msg);
	assert_true(s.has_cpu && s.has_memory && s.has_pids && s.has_io && s.has_memory_events);
	assert_int_equal(s.cpu.usage_usec, 5000);
	assert_int_equal(s.cpu.system_usec, 2000);
	assert_int_equal(s.cpu.throttled_usec, 700);
	assert_int_equal(s.memory.anon, 1000);
	assert_int_equal(s.memory.kernel_stack, 16384);
	assert_int_equal(s.memory.inactive_file, 1500);
	assert_int_equal(s.memory.workingset_refault, 9); /* the file part, as before 5.9 */
	assert_int_equal(s.memory.thp_collapse_alloc, 1);
	assert_int_equal(s.memory.usage, 4096000);
	assert_true(s.memory.usage_limit == UINT64_MAX);
	assert_int_equal(s.memory.swap_limit, 0);
	assert_int_equal(s.memory.max_usage, 5000000);
	assert_int_equal(s.memory_events.max, 7);
	assert_int_equal(s.memory_events.oom, 2);
	assert_int_equal(s.memory_events.oom_kill, 1);
	assert_int_equal(s.pids.current, 2);
	assert_true(s.pids.limit == UINT64_MAX);
	assert_int_equal(s.n_io, 2);
	assert_int_equal(s.io[0].major, 8);
	assert_int_equal(s.io[0].wbytes, 8192);
	assert_int_equal(s.io[0].wios, 2);
	assert_int_equal(s.io[1].major, 253);
	assert_int_equal(s.io[1].minor, 1);
	assert_int_equal(s.n_hugetlb, 2);
	for (size_t i = 0; i < 2; i++) {
		if (!strcmp(s.hugetlb[i].pagesize, "1GB"))
			assert_int_equal(s.hugetlb[i].max, 1073741824);
		else
			assert_true(s.hugetlb[i].max == UINT64_MAX);
	}
	rt_cg2_stats_clear(&s);
	remove_tmp(state);
}

static void test_v2_without_controllers_has_cpu_usage_only(void **state)
{
	_cleanup_free_ char *d = NULL;
	struct rt_cg2_stats s;
	struct wren_err *err = NULL;

	make_tmp(state);
	free(put("c/cpu.stat", "usage_usec 1\nuser_usec 1\nsystem_usec 0\n"));
	d = dir("c");
	if (rt_cgroup_stats_read_v2(d, &s, &err) < 0)
		fail_msg("read: %s", err->msg);
	assert_true(s.has_cpu);
	assert_false(s.has_memory || s.has_pids || s.has_io || s.has_memory_events);
	rt_cg2_stats_clear(&s);
	remove_tmp(state);
}

static void test_v2_missing_cgroup_is_not_found(void **state)
{
	_cleanup_free_ char *d = NULL;
	struct rt_cg2_stats s;
	struct wren_err *err = NULL;

	make_tmp(state);
	d = dir("gone");
	assert_int_equal(rt_cgroup_stats_read_v2(d, &s, &err), -1);
	assert_int_equal(err->code, WREN_E_NOT_FOUND);
	wren_err_free(err);
	remove_tmp(state);
}

static bool readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1;
}

static void test_oom_watch_v2_counts_new_oom_kills_only(void **state)
{
	_cleanup_free_ char *d = NULL, *events = NULL;
	struct rt_oom_watch *w = NULL;
	struct wren_err *err = NULL;
	uint64_t n = 99;
	const char *two = "low 0\nhigh 0\nmax 3\noom 2\noom_kill 3\n";

	make_tmp(state);
	events = put("c/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 1\n");
	d = dir("c");
	if (rt_oom_watch_open_v2(d, &w, &err) < 0)
		fail_msg("open: %s", err->msg);
	/* nothing new yet: the kill counted before the watch is not reported */
	assert_int_equal(rt_oom_watch_read(w, &n, &err), 0);
	assert_int_equal(n, 0);
	/* the kernel rewrites the file in place */
	assert_int_equal(write_file(events, two, strlen(two), false), 0);
	assert_true(readable(rt_oom_watch_fd(w), 1000));
	assert_int_equal(rt_oom_watch_read(w, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_false(readable(rt_oom_watch_fd(w), 0));
	/* a change that is not a kill (max events) says nothing */
	two = "low 0\nhigh 0\nmax 9\noom 2\noom_kill 3\n";
	assert_int_equal(write_file(events, two, strlen(two), false), 0);
	assert_int_equal(rt_oom_watch_read(w, &n, &err), 0);
	assert_int_equal(n, 0);
	rt_oom_watch_free(w);
	remove_tmp(state);
}

/* A real v1 memory cgroup with a 16 MiB limit and a child that touches 64 MiB: the eventfd fires,
 * and removing the cgroup afterwards (which also signals it) is not reported as an OOM. */
static void test_oom_watch_v1_fires_on_a_real_oom_kill(void **state)
{
	_cleanup_free_ char *cg =
	    xasprintf("/sys/fs/cgroup/memory/wren-test-oom-%d", (int)getpid());
	_cleanup_free_ char *limit = xasprintf("%s/memory.limit_in_bytes", cg);
	_cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", cg);
	struct rt_oom_watch *w = NULL;
	struct wren_err *err = NULL;
	uint64_t n = 0;
	int st, pipefd[2];
	pid_t pid;

	if (access("/sys/fs/cgroup/memory/cgroup.event_control", F_OK) < 0 || geteuid() != 0)
		skip();
	assert_int_equal(mkdir(cg, 0755), 0);
	assert_int_equal(write_file(limit, "16777216", 8, false), 0);
	if (rt_oom_watch_open_v1(cg, &w, &err) < 0) {
		rmdir(cg);
		fail_msg("open: %s", err->msg);
	}
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;
		size_t size = 64 << 20;
		char *p;

		/* wait until the parent moved us into the cgroup */
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) != 1)
			_exit(2);
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(3);
		for (size_t i = 0; i < size; i += 4096)
			p[i] = 1;
		_exit(0);
	}
	close(pipefd[0]);
	char b[16];
	snprintf(b, sizeof(b), "%d", (int)pid);
	assert_int_equal(write_file(procs, b, strlen(b), false), 0);
	assert_int_equal(write(pipefd[1], "g", 1), 1);
	close(pipefd[1]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* signalled before the victim died: readable by now */
	assert_true(readable(rt_oom_watch_fd(w), 0));
	assert_int_equal(rt_oom_watch_read(w, &n, &err), 0);
	assert_true(n >= 1);
	for (int i = 0; rmdir(cg) < 0 && errno == EBUSY && i < 100; i++)
		usleep(10000);
	assert_int_equal(access(cg, F_OK), -1);
	assert_int_equal(rt_oom_watch_read(w, &n, &err), 0);
	assert_int_equal(n, 0);
	rt_oom_watch_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v1_reads_cpu_memory_pids_and_blkio),
	    cmocka_unit_test(test_v1_without_swap_or_kmem_files_leaves_them_zero),
	    cmocka_unit_test(test_v1_pids_max_means_no_limit),
	    cmocka_unit_test(test_v1_prefers_the_cfq_blkio_files),
	    cmocka_unit_test(test_v1_hugetlb_sizes_come_from_the_file_names),
	    cmocka_unit_test(test_v1_missing_cgroup_is_not_found),
	    cmocka_unit_test(test_v1_missing_required_file_is_named),
	    cmocka_unit_test(test_v2_reads_cpu_memory_pids_io_hugetlb_and_events),
	    cmocka_unit_test(test_v2_without_controllers_has_cpu_usage_only),
	    cmocka_unit_test(test_v2_missing_cgroup_is_not_found),
	    cmocka_unit_test(test_oom_watch_v2_counts_new_oom_kills_only),
	    cmocka_unit_test(test_oom_watch_v1_fires_on_a_real_oom_kill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
