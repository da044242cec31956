/* cgroup v2 (pure unified hosts): one directory, controllers enabled in every ancestor's
 * cgroup.subtree_control. Plain cgroupfs file operations, no libcgroup: see the top of cgroup.c.
 * OCI resources map to v2 files with the conversions runc and crun use (shares → weight, memory
 * swap = memory+swap − memory, blkio weight → io weight). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cgroup_fs.h"
#include "runtime/util.h"

uint64_t rt_cg2_shares_to_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t rt_cg2_blkio_to_io_weight(uint64_t weight)
{
	if (weight == 0)
		return 0;
	if (weight < 10)
		weight = 10;
	if (weight > 1000)
		weight = 1000;
	return 1 + ((weight - 10) * 9999) / 990;
}

static int write_num(const struct rt_cgfs_dir *d, const char *file, int64_t v,
		     struct wren_err **err)
{
	char b[32];

	if (v < 0)
		return rt_cgfs_write_at(d, file, "max", err);
	snprintf(b, sizeof(b), "%" PRId64, v);
	return rt_cgfs_write_at(d, file, b, err);
}

/* memory.swap.max from the spec's memory+swap total, as runc's ConvertMemorySwapToCgroupV2Value:
 * *out < 0 is "max"; *set false leaves the file alone. */
static int swap_value(const struct rt_resources *r, int64_t *out, bool *set, struct wren_err **err)
{
	int64_t swap = r->has_memory_swap ? r->memory_swap : 0;
	int64_t mem = r->has_memory_limit ? r->memory_limit : 0;

	*set = false;
	if (mem == -1 && swap == 0) {
		/* unlimited memory, swap unset: unlimited swap too, as on v1 */
		*out = -1;
		*set = true;
		return 0;
	}
	if (swap == 0)
		return 0;
	if (swap == -1) {
		*out = -1;
		*set = true;
		return 0;
	}
	if (mem == 0 || mem == -1)
		return wren_err_code(
		    err, WREN_E_INVALID_ARGUMENT,
		    "linux.resources.memory.swap: needs a memory limit on cgroup v2");
	if (swap < mem)
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
				     "linux.resources.memory.swap: must be >= memory.limit");
	*out = swap - mem;
	*set = true;
	return 0;
}

static int set_memory(const struct rt_cgfs_dir *d, const struct rt_resources *r,
		      struct wren_err **err)
{
	int64_t swap;
	bool set_swap;

	if (swap_value(r, &swap, &set_swap, err) < 0)
		return -1;
	if (set_swap) {
		struct wren_err *e = NULL;

		/* Without swap accounting there is no memory.swap.max: "no swap" and "unlimited"
		 * then hold anyway. */
		if (write_num(d, "memory.swap.max", swap, &e) < 0) {
			if (e->errnum == ENOENT && (swap == -1 || swap == 0)) {
				wren_err_free(e);
			} else {
				wren_err_move(err, &e);
				return -1;
			}
		}
	}
	if (r->has_memory_limit && r->memory_limit != 0 &&
	    write_num(d, "memory.max", r->memory_limit, err) < 0)
		return -1;
	if (r->has_memory_reservation && r->memory_reservation != 0 &&
	    write_num(d, "memory.low", r->memory_reservation, err) < 0)
		return -1;
	/* swappiness, disableOOMKiller and kernel limits have no v2 counterpart; runc ignores
	 * them on v2 too. */
	return 0;
}

static int set_cpu(const struct rt_cgfs_dir *d, const struct rt_resources *r, struct wren_err **err)
{
	uint64_t w = r->has_cpu_shares ? rt_cg2_shares_to_weight(r->cpu_shares) : 0;
	int64_t quota = r->has_cpu_quota ? r->cpu_quota : 0;
	uint64_t period = r->has_cpu_period ? r->cpu_period : 0;

	if (w != 0 && write_num(d, "cpu.weight", (int64_t)w, err) < 0)
		return -1;
	if (quota != 0 || period != 0) {
		char b[64];

		/* "max" alone keeps the current period. */
		if (quota > 0)
			snprintf(b, sizeof(b), "%" PRId64, quota);
		else
			snprintf(b, sizeof(b), "max");
		if (period != 0)
			snprintf(b + strlen(b), sizeof(b) - strlen(b), " %" PRIu64, period);
		if (rt_cgfs_write_at(d, "cpu.max", b, err) < 0)
			return -1;
	}
	if ((r->has_cpu_realtime_runtime && r->cpu_realtime_runtime != 0) ||
	    (r->has_cpu_realtime_period && r->cpu_realtime_period != 0))
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
				     "linux.resources.cpu: realtime limits are not supported on "
				     "cgroup v2");
	if (r->has_cpu_idle && write_num(d, "cpu.idle", r->cpu_idle, err) < 0)
		return -1;
	if (r->cpu_cpus && *r->cpu_cpus && rt_cgfs_write_at(d, "cpuset.cpus", r->cpu_cpus, err) < 0)
		return -1;
	if (r->cpu_mems && *r->cpu_mems && rt_cgfs_write_at(d, "cpuset.mems", r->cpu_mems, err) < 0)
		return -1;
	return 0;
}

/* blockIO's per-device lists on v2: the throttles are keys of io.max ("0" = no limit = "max"), a
 * device weight goes to io.bfq.weight in the v1 range or to io.weight converted, as the whole
 * weight does. leafWeight has no v2 file (runc ignores it there too). */
static int set_io_devices(const struct rt_cgfs_dir *d, const struct rt_resources *r,
			  struct wren_err **err)
{
	static const char *const keys[RT_BLKIO_NLISTS] = {
	    [RT_BLKIO_READ_BPS] = "rbps",
	    [RT_BLKIO_WRITE_BPS] = "wbps",
	    [RT_BLKIO_READ_IOPS] = "riops",
	    [RT_BLKIO_WRITE_IOPS] = "wiops",
	};
	bool bfq = rt_cgfs_exists_at(d, "io.bfq.weight");
	char line[96], rate[24];

	for (size_t i = 0; i < r->n_blkio[RT_BLKIO_WEIGHT_DEVICE]; i++) {
		const struct rt_blkio_device *b = &r->blkio_lists[RT_BLKIO_WEIGHT_DEVICE][i];

		if (!b->has_weight)
			continue;
		snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %" PRIu64, b->major, b->minor,
			 bfq ? b->weight : rt_cg2_blkio_to_io_weight(b->weight));
		if (rt_cgfs_write_at(d, bfq ? "io.bfq.weight" : "io.weight", line, err) < 0)
			return -1;
	}
	for (int l = RT_BLKIO_READ_BPS; l < RT_BLKIO_NLISTS; l++) {
		for (size_t i = 0; i < r->n_blkio[l]; i++) {
			const struct rt_blkio_device *b = &r->blkio_lists[l][i];

			if (b->rate == 0)
				snprintf(rate, sizeof(rate), "max");
			else
				snprintf(rate, sizeof(rate), "%" PRIu64, b->rate);
			snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %s=%s", b->major,
				 b->minor, keys[l], rate);
			if (rt_cgfs_write_at(d, "io.max", line, err) < 0)
				return -1;
		}
	}
	return 0;
}

static int set_io_hugetlb(const struct rt_cgfs_dir *d, const struct rt_resources *r,
			  struct wren_err **err)
{
	if (set_io_devices(d, r, err) < 0)
		return -1;
	if (r->has_blkio_weight && r->blkio_weight != 0) {
		/* BFQ keeps the v1 range in io.bfq.weight; io.weight has its own. */
		if (rt_cgfs_exists_at(d, "io.bfq.weight")) {
			if (write_num(d, "io.bfq.weight", r->blkio_weight, err) < 0)
				return -1;
		} else if (write_num(d, "io.weight",
				     (int64_t)rt_cg2_blkio_to_io_weight(r->blkio_weight),
				     err) < 0) {
			return -1;
		}
	}
	for (size_t i = 0; i < r->n_hugepage_limits; i++) {
		_cleanup_free_ char *f =
		    xasprintf("hugetlb.%s.max", r->hugepage_limits[i].page_size);
		char b[32];

		/* No hugetlb controller: skip, as containerd's tolerate_missing_hugetlb_controller.
		 */
		if (!rt_cgfs_exists_at(d, f))
			continue;
		snprintf(b, sizeof(b), "%" PRIu64, r->hugepage_limits[i].limit);
		if (rt_cgfs_write_at(d, f, b, err) < 0)
			return -1;
	}
	return 0;
}

static int set_unified(const struct rt_cgfs_dir *d, const struct rt_resources *r,
		       struct wren_err **err)
{
	for (size_t i = 0; i < r->n_unified; i++) {
		const char *k = r->unified_keys[i];

		/* A key names a file in the cgroup's own directory, nothing else. */
		if (k[0] == '\0' || k[0] == '.' || strchr(k, '/') != NULL)
			return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
					     "linux.resources.unified: bad key \"%s\"", k);
		if (rt_cgfs_write_at(d, k, r->unified_values[i], err) < 0)
			return -1;
	}
	return 0;
}

/* The cgroup's files, opened relative to the directory fd it keeps for CLONE_INTO_CGROUP: one
 * path component to walk instead of /sys/fs/cgroup/<path>/. By path once that fd is closed. */
static struct rt_cgfs_dir cg_dir(const struct rt_cgroup *cg)
{
	return (struct rt_cgfs_dir){.path = cg->dir, .fd = cg->dirfd};
}

int rt_cg2_update(const struct rt_cgroup *cg, const struct rt_resources *r, struct wren_err **err)
{
	struct rt_cgfs_dir d = cg_dir(cg);

	if (set_memory(&d, r, err) < 0 || set_cpu(&d, r, err) < 0)
		return -1;
	if (r->has_pids_limit &&
	    write_num(&d, "pids.max", r->pids_limit > 0 ? r->pids_limit : -1, err) < 0)
		return -1;
	if (set_io_hugetlb(&d, r, err) < 0)
		return -1;
	if (set_unified(&d, r, err) < 0)
		return -1;
	/* Last: the program then describes the limits just written, and a failure above leaves
	 * the previous program in place. */
	return rt_cg2_set_devices(cg->dirfd, r, err);
}

/* Enable in dir's subtree_control every controller dir has. One at a time: a controller that
 * cannot be enabled here (e.g. a threaded-only one) must not stop the others; a limit that then
 * needs it fails later with the file's name. */
static int enable_controllers(const char *dir, bool made, bool is_leaf, void *arg,
			      struct wren_err **err)
{
	_cleanup_free_ char *avail = NULL, *on = NULL;
	char *save = NULL;

	if (is_leaf)
		return 0; /* a leaf with processes may not have controllers enabled below it */
	if (rt_cgfs_read(dir, "cgroup.controllers", &avail) < 0)
		return wren_err_errno(err, errno, "cgroup: read %s/cgroup.controllers", dir);
	if (rt_cgfs_read(dir, "cgroup.subtree_control", &on) < 0)
		on = xstrdup("");
	for (char *c = strtok_r(avail, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
		_cleanup_free_ char *plus = xstrjoin("+", c, NULL);
		_cleanup_free_ char *padded = xstrjoin(" ", on, " ", NULL);
		_cleanup_free_ char *needle = xstrjoin(" ", c, " ", NULL);

		if (strstr(padded, needle) == NULL)
			rt_cgfs_write(dir, "cgroup.subtree_control", plus, NULL);
	}
	return 0;
}

static int open_dir(struct rt_cgroup *cg, struct wren_err **err)
{
	cg->dir = xstrjoin(RT_CGROUP2_ROOT, cg->path, NULL);
	/* O_PATH would do for reading, but CLONE_INTO_CGROUP wants a real open file. */
	cg->dirfd = open(cg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->dirfd < 0) {
		if (errno == ENOENT)
			return wren_err_code(err, WREN_E_NOT_FOUND, "cgroup %s: not found",
					     cg->path);
		return wren_err_errno(err, errno, "cgroup: open %s", cg->dir);
	}
	return 0;
}

int rt_cg2_create(struct rt_cgroup *cg, const struct rt_resources *res, struct wren_err **err)
{
	char **made = NULL;
	size_t n_made = 0;

	/* The root itself: the walk below starts at its first child. */
	if (enable_controllers(RT_CGROUP2_ROOT, false, false, NULL, err) < 0 ||
	    rt_cgfs_mkdir_levels(RT_CGROUP2_ROOT, cg->path, &made, &n_made, enable_controllers,
				 NULL, err) < 0 ||
	    open_dir(cg, err) < 0 || rt_cg2_update(cg, res, err) < 0)
		goto fail;
	for (size_t i = 0; i < n_made; i++)
		free(made[i]);
	free(made);
	return 0;
fail:
	closep(&cg->dirfd);
	rt_cgfs_undo_mkdirs(made, n_made);
	return wren_err_wrap(err, "create cgroup %s", cg->path);
}

int rt_cg2_open(struct rt_cgroup *cg, struct wren_err **err)
{
	return open_dir(cg, err);
}

int rt_cg2_attach(const struct rt_cgroup *cg, pid_t pid, struct wren_err **err)
{
	struct rt_cgfs_dir d = cg_dir(cg);
	char b[16];

	snprintf(b, sizeof(b), "%d", (int)pid);
	return rt_cgfs_write_at(&d, "cgroup.procs", b, err);
}

int rt_cg2_pids(const struct rt_cgroup *cg, pid_t **out, size_t *n, struct wren_err **err)
{
	return rt_cgfs_pids(cg->dir, out, n, err);
}

/* cgroup.events says "frozen 1" once every task is stopped. */
static int frozen_state(const struct rt_cgfs_dir *d, int *out)
{
	_cleanup_free_ char *ev = NULL;
	char *p;

	if (rt_cgfs_read_at(d, "cgroup.events", &ev) < 0)
		return -1;
	p = strstr(ev, "frozen ");
	*out = p ? p[7] == '1' : 0;
	return 0;
}

int rt_cg2_freeze(const struct rt_cgroup *cg, bool frozen, struct wren_err **err)
{
	int64_t deadline = rt_cgfs_now_ms() + RT_CGROUP_WAIT_MS;
	struct rt_cgfs_dir d = cg_dir(cg);

	if (!rt_cgfs_exists_at(&d, "cgroup.freeze"))
		return wren_err_code(err, WREN_E_FAILED_PRECONDITION,
				     "cgroup %s: no cgroup.freeze (kernel older than 5.2)",
				     cg->path);
	if (rt_cgfs_write_at(&d, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
		return -1;
	for (int i = 0;; i++) {
		int st = 0;

		if (frozen_state(&d, &st) < 0)
			return wren_err_errno(err, errno, "cgroup: read %s/cgroup.events", cg->dir);
		if (st == (int)frozen)
			return 0;
		if (rt_cgfs_now_ms() >= deadline)
			return wren_err_code(err, WREN_E_UNKNOWN, "cgroup %s: %s did not settle",
					     cg->path, frozen ? "freezing" : "thawing");
		rt_cgfs_sleep_ms(i < 10 ? 1 : 10);
	}
}

int rt_cg2_kill(const struct rt_cgroup *cg, int sig, struct wren_err **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	struct rt_cgfs_dir d = cg_dir(cg);
	size_t n = 0;
	bool frozen;
	int r;

	/* cgroup.kill (5.14+) kills the whole subtree atomically, forks included. */
	if (sig == SIGKILL && rt_cgfs_exists_at(&d, "cgroup.kill"))
		return rt_cgfs_write_at(&d, "cgroup.kill", "1", err);
	frozen = rt_cg2_freeze(cg, true, NULL) == 0;
	r = rt_cg2_pids(cg, &pids, &n, err);
	if (r == 0)
		r = rt_cgfs_signal_pids(pids, n, sig, err);
	if (frozen && rt_cg2_freeze(cg, false, r < 0 ? NULL : err) < 0)
		r = -1;
	return r;
}

int rt_cg2_destroy(struct rt_cgroup *cg, struct wren_err **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;

	/* As on v1: the kernel refuses to remove a cgroup with processes or cgroups below it, so
	 * only a failed rmdir calls for listing, killing and walking. */
	if (rmdir(cg->dir) == 0 || errno == ENOENT) {
		closep(&cg->dirfd);
		return 0;
	}
	if (rt_cgfs_pids(cg->dir, &pids, &n, NULL) == 0 && n > 0) {
		if (rt_cg2_kill(cg, SIGKILL, err) < 0 || rt_cgfs_wait_empty(cg->dir, err) < 0)
			return wren_err_wrap(err, "remove cgroup %s", cg->path);
	}
	closep(&cg->dirfd);
	return rt_cgfs_rmdir_tree(cg->dir, err);
}
