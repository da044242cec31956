/* A cgroup's counters (the task API's Stats), read from cgroupfs into plain C structs: the v1
 * controllers' files on v1/hybrid hosts, the unified files on pure v2 hosts. The shim turns them
 * into containerd's io.containerd.cgroups.v1/v2.Metrics; nothing here knows that format.
 *
 * The readers take directories, not an rt_cgroup, so that tests can feed them a fake tree. */
#ifndef WREN_CGROUP_STATS_H
#define WREN_CGROUP_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/cgroup.h"
#include "runtime/err.h"

/* ---- v1 ---- */

/* memory.<x>usage_in_bytes, max_usage_in_bytes, failcnt, limit_in_bytes */
struct rt_cg1_mem_entry {
	uint64_t usage, max, failcnt, limit;
};

/* One line of a blkio file: "8:0 Read 4096", or "8:0 40" (op "") in the files without ops. */
struct rt_cg1_blkio_entry {
	char op[16];
	uint64_t major, minor, value;
};

struct rt_cg1_blkio_list {
	struct rt_cg1_blkio_entry *e;
	size_t n;
};

struct rt_cg1_hugetlb {
	char pagesize[16]; /* "2MB", as in the file names */
	uint64_t usage, max, failcnt;
};

struct rt_cg1_stats {
	bool has_cpu, has_memory, has_pids, has_blkio;
	struct {
		uint64_t total, kernel, user; /* nanoseconds */
		uint64_t *per_cpu;
		size_t n_per_cpu;
		uint64_t periods, throttled_periods, throttled_time; /* cpu.stat */
	} cpu;
	struct {
		/* memory.stat, by key */
		uint64_t cache, rss, rss_huge, mapped_file, dirty, writeback, pgpgin, pgpgout,
		    pgfault, pgmajfault, inactive_anon, active_anon, inactive_file, active_file,
		    unevictable, hierarchical_memory_limit, hierarchical_memsw_limit;
		uint64_t total_cache, total_rss, total_rss_huge, total_mapped_file, total_dirty,
		    total_writeback, total_pgpgin, total_pgpgout, total_pgfault, total_pgmajfault,
		    total_inactive_anon, total_active_anon, total_inactive_file, total_active_file,
		    total_unevictable;
		struct rt_cg1_mem_entry usage, memsw, kmem, kmem_tcp;
		/* memory.oom_control */
		uint64_t oom_kill_disable, under_oom, oom_kill;
	} memory;
	struct {
		uint64_t current, limit; /* limit 0: "max" */
	} pids;
	struct {
		struct rt_cg1_blkio_list service_bytes, serviced, queued, service_time, wait_time,
		    merged, time, sectors;
	} blkio;
	struct rt_cg1_hugetlb *hugetlb;
	size_t n_hugetlb;
};

/* The cgroup's directory in each v1 hierarchy; NULL where that controller is not mounted (its
 * part of the stats is then left out). cpu and cpuacct may be the same directory. */
struct rt_cg1_stat_dirs {
	const char *cpu, *cpuacct, *memory, *pids, *blkio, *hugetlb;
};

/* A directory that is given but missing is NOT_FOUND ("the cgroup is gone"); a file missing in
 * it is left at zero where kernels differ (memsw, kmem, blkio's CFQ files), an error otherwise. */
int rt_cgroup_stats_read_v1(const struct rt_cg1_stat_dirs *dirs, struct rt_cg1_stats *out,
			    struct wren_err **err);
void rt_cg1_stats_clear(struct rt_cg1_stats *s);

/* ---- v2 ---- */

struct rt_cg2_io_entry {
	uint64_t major, minor, rbytes, wbytes, rios, wios;
};

struct rt_cg2_hugetlb {
	char pagesize[16];
	uint64_t current, max;
};

struct rt_cg2_stats {
	bool has_cpu, has_memory, has_pids, has_io, has_memory_events;
	struct {
		uint64_t usage_usec, user_usec, system_usec, nr_periods, nr_throttled,
		    throttled_usec;
	} cpu;
	struct {
		/* memory.stat, by key */
		uint64_t anon, file, kernel_stack, slab, sock, shmem, file_mapped, file_dirty,
		    file_writeback, anon_thp, inactive_anon, active_anon, inactive_file,
		    active_file, unevictable, slab_reclaimable, slab_unreclaimable, pgfault,
		    pgmajfault, workingset_refault, workingset_activate, workingset_nodereclaim,
		    pgrefill, pgscan, pgsteal, pgactivate, pgdeactivate, pglazyfree, pglazyfreed,
		    thp_fault_alloc, thp_collapse_alloc;
		/* memory.current, memory.max, memory.swap.current, memory.swap.max, memory.peak,
		 * memory.swap.peak; "max" is UINT64_MAX */
		uint64_t usage, usage_limit, swap_usage, swap_limit, max_usage, swap_max_usage;
	} memory;
	struct {
		uint64_t current, limit; /* "max" is UINT64_MAX */
	} pids;
	struct rt_cg2_io_entry *io;
	size_t n_io;
	struct rt_cg2_hugetlb *hugetlb;
	size_t n_hugetlb;
	struct {
		uint64_t low, high, max, oom, oom_kill;
	} memory_events;
};

/* The files of one v2 cgroup directory; the controllers not enabled there are left out. A
 * missing directory is NOT_FOUND. */
int rt_cgroup_stats_read_v2(const char *dir, struct rt_cg2_stats *out, struct wren_err **err);
void rt_cg2_stats_clear(struct rt_cg2_stats *s);

/* ---- a live cgroup ---- */

struct rt_cgroup_stats {
	enum rt_cgroup_mode mode; /* which of the two is filled */
	struct rt_cg1_stats v1;
	struct rt_cg2_stats v2;
};

/* Read the stats of cg in its host's mode. NOT_FOUND when the cgroup is gone. */
int rt_cgroup_stats(const struct rt_cgroup *cg, struct rt_cgroup_stats *out, struct wren_err **err);
void rt_cgroup_stats_clear(struct rt_cgroup_stats *s);
/* The directory holding cg's memory files: its v1 memory hierarchy's (NULL if that is not
 * mounted), or its v2 directory. */
const char *rt_cgroup_memory_dir(const struct rt_cgroup *cg);

#endif
