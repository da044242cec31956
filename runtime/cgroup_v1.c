/* cgroup v1 (and hybrid hosts, where the controllers are on v1): one directory per hierarchy.
 * Plain cgroupfs file operations, no libcgroup: see the top of cgroup.c for why. The hierarchies
 * come from /proc/self/mountinfo, so co-mounted controllers ("cpu,cpuacct") and unusual mount
 * points work; resources are written the way runc's fs driver writes them. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cgroup_fs.h"
#include "runtime/util.h"

/* Stands for the hybrid host's v2 mount among the v1 hierarchies; not a controller name. */

/* The controllers wren puts a container in; name=systemd too, as runc does, so that tools that
 * read /proc/<pid>/cgroup see the container's own path there. */
static const char *const known_ctrls[] = {
    "cpu",   "cpuacct",	   "cpuset",  "memory", "devices", "freezer", "net_cls",      "net_prio",
    "blkio", "perf_event", "hugetlb", "pids",	"rdma",	   "misc",    "name=systemd",
};

/* Asked for every option of every cgroup mount and every line of /proc/self/cgroup, in each
 * process (the daemon and the delete action both): the first letter rules most names out. */
static bool known_ctrl(const char *c, size_t len)
{
	for (size_t i = 0; i < sizeof(known_ctrls) / sizeof(known_ctrls[0]); i++)
		if (len > 0 && known_ctrls[i][0] == c[0] && strncmp(known_ctrls[i], c, len) == 0 &&
		    known_ctrls[i][len] == '\0')
			return true;
	return false;
}

static bool has_ctrl(const char *list, const char *c)
{
	size_t cl = strlen(c);

	for (const char *s = list; *s;) {
		const char *e = strchrnul(s, ',');

		if ((size_t)(e - s) == cl && strncmp(s, c, cl) == 0)
			return true;
		s = *e ? e + 1 : e;
	}
	return false;
}

/* mountinfo escapes spaces and friends as \ooo. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* The next field of a line whose fields are separated by one space (mountinfo escapes the spaces
 * in paths), NUL-terminated in place; NULL past the last. */
static char *next_field(char **p)
{
	char *f = *p, *e;

	if (f == NULL || *f == '\0')
		return NULL;
	e = strchrnul(f, ' ');
	*p = *e ? e + 1 : e;
	*e = '\0';
	return f;
}

/* One mountinfo line (without its newline) of fstype "cgroup": its mount point and the known
 * controllers of its super options (or UNIFIED for "cgroup2"), or false for anything else. */
static bool parse_mount_line(char *line, char **mnt, char **ctrls)
{
	char *f[5], *sep, *fstype, *super, *rest;
	char *out;
	size_t ol = 0;

	/* "id parent maj:min root mountpoint opts [optional...] - fstype source superopts" */
	sep = strstr(line, " - ");
	if (sep == NULL)
		return false;
	*sep = '\0';
	rest = sep + 3;
	fstype = next_field(&rest);
	next_field(&rest); /* source */
	super = next_field(&rest);
	if (fstype == NULL || super == NULL)
		return false;
	if (strcmp(fstype, "cgroup") != 0 && strcmp(fstype, "cgroup2") != 0)
		return false;
	rest = line;
	for (int i = 0; i < 5; i++)
		if ((f[i] = next_field(&rest)) == NULL)
			return false;
	/* The v2 mount of a hybrid host (/sys/fs/cgroup/unified): runc puts containers there too,
	 * so that /proc/<pid>/cgroup's "0::" line names the container. No limits are written in
	 * it (hybrid controllers live on v1). */
	if (strcmp(fstype, "cgroup2") == 0) {
		*mnt = xstrdup(f[4]);
		unescape(*mnt);
		*ctrls = xstrdup(UNIFIED);
		return true;
	}
	out = xzalloc(strlen(super) + 1);
	for (char *s = super; *s;) {
		char *e = strchrnul(s, ',');

		if (known_ctrl(s, (size_t)(e - s))) {
			if (ol)
				out[ol++] = ',';
			memcpy(out + ol, s, (size_t)(e - s));
			ol += (size_t)(e - s);
		}
		s = *e ? e + 1 : e;
	}
	if (ol == 0) {
		free(out);
		return false;
	}
	*mnt = xstrdup(f[4]);
	unescape(*mnt);
	*ctrls = out;
	return true;
}

/* The host's v1 hierarchies (mount point, controllers), each once: a hierarchy mounted twice is
 * the same cgroup tree. Read once per process and kept: mountinfo also lists every container's
 * overlay, so reading it per cgroup open would cost more the more containers run (1.1 ms of
 * kernel time per read with 500 overlays), and the hierarchies of a host do not move while a
 * shim lives. A host fact, not daemon state. */
static struct {
	char **mnts, **ctrls;
	size_t n, cap;
} hier;

static void add_hierarchy(char *mnt, char *ctrls)
{
	for (size_t i = 0; i < hier.n; i++)
		if (strcmp(hier.ctrls[i], ctrls) == 0) {
			free(mnt);
			free(ctrls);
			return;
		}
	if (hier.n == hier.cap) {
		hier.cap = hier.cap ? hier.cap * 2 : 16; /* a host has 10 to 15 */
		hier.mnts = xrealloc(hier.mnts, hier.cap * sizeof(char *));
		hier.ctrls = xrealloc(hier.ctrls, hier.cap * sizeof(char *));
	}
	hier.mnts[hier.n] = mnt;
	hier.ctrls[hier.n++] = ctrls;
}

/* How many hierarchies a full mountinfo scan would find: /proc/self/cgroup has a line per
 * mounted v1 hierarchy ("4:cpu,cpuacct:/path") and a "0::" one for cgroup2. 0 if unknown. */
static size_t hierarchies_expected(void)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	char *line, *save = NULL;
	size_t n = 0;

	if (fd < 0 || rt_cgfs_read_fd(fd, 1 << 16, &text, NULL) < 0)
		return 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ctrls = strchr(line, ':'), *end;

		if (ctrls == NULL || (end = strchr(++ctrls, ':')) == NULL)
			return 0;
		if (end == ctrls) { /* cgroup2 */
			n++;
			continue;
		}
		for (char *c = ctrls; c < end;) {
			char *e = memchr(c, ',', (size_t)(end - c));

			if (e == NULL)
				e = end;
			if (known_ctrl(c, (size_t)(e - c))) {
				n++;
				break;
			}
			c = e + 1;
		}
	}
	return n;
}

#define MOUNTINFO_READ 1024

/* Add the hierarchy of each whole line of mountinfo until want are known. read(2) in 1 kB
 * pieces, as stdio would (procfs' block size) but without its fstat: the kernel formats as many
 * lines as a read asks for, so a larger read would make it format container overlays past the
 * boot-time cgroup mounts for nothing. */
static int scan_mountinfo(size_t want, struct wren_err **err)
{
	_cleanup_close_ int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t cap = 8192, n = 0;

	if (fd < 0)
		return wren_err_errno(err, errno, "cgroup: open /proc/self/mountinfo");
	buf = xmalloc(cap + 1);
	while (want == 0 || hier.n < want) {
		char *line = buf, *nl;
		ssize_t r;

		if (n == cap) { /* a line longer than the buffer */
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n < MOUNTINFO_READ ? cap - n : MOUNTINFO_READ);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return wren_err_errno(err, errno, "cgroup: read /proc/self/mountinfo");
		if (r == 0)
			break;
		n += (size_t)r;
		buf[n] = '\0';
		for (; (nl = strchr(line, '\n')) != NULL && (want == 0 || hier.n < want);
		     line = nl + 1) {
			char *mnt = NULL, *ctrls = NULL;

			*nl = '\0';
			/* " - " comes once per line, before the fstype (spaces in paths are
			 * \040) */
			if (strstr(line, " - cgroup") && parse_mount_line(line, &mnt, &ctrls))
				add_hierarchy(mnt, ctrls);
		}
		/* keep the unfinished last line for the next read */
		n -= (size_t)(line - buf);
		memmove(buf, line, n);
	}
	return 0;
}

static int load_hierarchies(struct wren_err **err)
{
	if (hier.n > 0)
		return 0;
	/* The kernel formats mountinfo as it is read, a line per mount, and the container
	 * overlays (one per running container) come after the cgroup mounts made at boot: stop
	 * as soon as every hierarchy /proc/self/cgroup names has been found, so neither the
	 * kernel nor this loop pays for the overlays. The result is the full scan's: a
	 * hierarchy not mounted here makes the loop read to the end. */
	if (scan_mountinfo(hierarchies_expected(), err) < 0)
		return -1;
	if (hier.n == 0)
		return wren_err_code(err, WREN_E_FAILED_PRECONDITION,
				     "cgroup: no cgroup v1 hierarchy is mounted");
	return 0;
}

/* Fill cg->dirs/ctrls with <mount point><path> for every v1 hierarchy. */
static int find_hierarchies(struct rt_cgroup *cg, struct wren_err **err)
{
	if (load_hierarchies(err) < 0)
		return -1;
	cg->dirs = xrealloc(cg->dirs, (cg->n_dirs + hier.n) * sizeof(char *));
	cg->ctrls = xrealloc(cg->ctrls, (cg->n_dirs + hier.n) * sizeof(char *));
	cg->procs_fds = xrealloc(cg->procs_fds, (cg->n_dirs + hier.n) * sizeof(int));
	for (size_t i = 0; i < hier.n; i++) {
		cg->procs_fds[cg->n_dirs] = -1;
		cg->dirs[cg->n_dirs] = xstrjoin(hier.mnts[i], cg->path, NULL);
		cg->ctrls[cg->n_dirs++] = xstrdup(hier.ctrls[i]);
	}
	return 0;
}

static const char *dir_of(const struct rt_cgroup *cg, const char *ctrl)
{
	for (size_t i = 0; i < cg->n_dirs; i++)
		if (has_ctrl(cg->ctrls[i], ctrl))
			return cg->dirs[i];
	return NULL;
}

/* Mount point of a directory of ours: dir minus the cgroup path. */
static char *mount_of(const struct rt_cgroup *cg, size_t i)
{
	return xstrndup(cg->dirs[i], strlen(cg->dirs[i]) - strlen(cg->path));
}

/* ---- resources --------------------------------------------------------------------------- */

static int write_i64(const struct rt_cgfs_dir *d, const char *file, int64_t v,
		     struct wren_err **err)
{
	char b[32];

	snprintf(b, sizeof(b), "%" PRId64, v);
	return rt_cgfs_write_at(d, file, b, err);
}

static int write_u64(const struct rt_cgfs_dir *d, const char *file, uint64_t v,
		     struct wren_err **err)
{
	char b[32];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	return rt_cgfs_write_at(d, file, b, err);
}

/* blockIO's per-device lists, one "major:minor value" line per write, as the kernel takes them. */
static int set_blkio_devices(const struct rt_cgfs_dir *d, const struct rt_resources *r,
			     struct wren_err **err)
{
	static const char *const files[RT_BLKIO_NLISTS] = {
	    [RT_BLKIO_READ_BPS] = "blkio.throttle.read_bps_device",
	    [RT_BLKIO_WRITE_BPS] = "blkio.throttle.write_bps_device",
	    [RT_BLKIO_READ_IOPS] = "blkio.throttle.read_iops_device",
	    [RT_BLKIO_WRITE_IOPS] = "blkio.throttle.write_iops_device",
	};
	const char *wfile = rt_cgfs_exists_at(d, "blkio.bfq.weight_device")
				? "blkio.bfq.weight_device"
				: "blkio.weight_device";
	char line[96];

	if (r->has_blkio_leaf_weight && r->blkio_leaf_weight != 0 &&
	    write_u64(d, "blkio.leaf_weight", r->blkio_leaf_weight, err) < 0)
		return -1;
	for (size_t i = 0; i < r->n_blkio[RT_BLKIO_WEIGHT_DEVICE]; i++) {
		const struct rt_blkio_device *b = &r->blkio_lists[RT_BLKIO_WEIGHT_DEVICE][i];

		snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %u", b->major, b->minor,
			 (unsigned)b->weight);
		if (b->has_weight && rt_cgfs_write_at(d, wfile, line, err) < 0)
			return -1;
		snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %u", b->major, b->minor,
			 (unsigned)b->leaf_weight);
		if (b->has_leaf_weight &&
		    rt_cgfs_write_at(d, "blkio.leaf_weight_device", line, err) < 0)
			return -1;
	}
	for (int l = RT_BLKIO_READ_BPS; l < RT_BLKIO_NLISTS; l++) {
		for (size_t i = 0; i < r->n_blkio[l]; i++) {
			const struct rt_blkio_device *b = &r->blkio_lists[l][i];

			snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %" PRIu64, b->major,
				 b->minor, b->rate);
			if (rt_cgfs_write_at(d, files[l], line, err) < 0)
				return -1;
		}
	}
	return 0;
}

static bool has_blkio_devices(const struct rt_resources *r)
{
	for (int l = 0; l < RT_BLKIO_NLISTS; l++)
		if (r->n_blkio[l] > 0)
			return true;
	return r->has_blkio_leaf_weight && r->blkio_leaf_weight != 0;
}

static int missing(const char *ctrl, struct wren_err **err)
{
	return wren_err_code(err, WREN_E_FAILED_PRECONDITION,
			     "cgroup: cannot set %s limits: the %s controller is not mounted", ctrl,
			     ctrl);
}

/* 0 means "not set" for the memory values, as in runc (and containerd sends 0 for no limit). */
static int set_memory(const struct rt_cgfs_dir *d, const struct rt_resources *r,
		      struct wren_err **err)
{
	int64_t limit = r->has_memory_limit ? r->memory_limit : 0;
	int64_t swap = r->has_memory_swap ? r->memory_swap : 0;
	bool memsw = rt_cgfs_exists_at(d, "memory.memsw.limit_in_bytes");

	/* Unlimited memory with swap unset means unlimited swap too. */
	if (limit == -1 && swap == 0 && memsw)
		swap = -1;
	if (!memsw)
		swap = 0; /* swap accounting is off on this host: nothing to limit */
	if (limit != 0 && swap != 0) {
		_cleanup_free_ char *cur = NULL;
		int64_t cur_limit = 0;

		if (rt_cgfs_read_at(d, "memory.limit_in_bytes", &cur) == 0)
			cur_limit = strtoll(cur, NULL, 10);
		/* The kernel insists on memory <= memory+swap at every step: raise memsw first when
		 * growing, lower the memory limit first when shrinking. */
		if (swap == -1 || cur_limit < swap) {
			if (write_i64(d, "memory.memsw.limit_in_bytes", swap, err) < 0 ||
			    write_i64(d, "memory.limit_in_bytes", limit, err) < 0)
				return -1;
		} else if (write_i64(d, "memory.limit_in_bytes", limit, err) < 0 ||
			   write_i64(d, "memory.memsw.limit_in_bytes", swap, err) < 0) {
			return -1;
		}
	} else if (limit != 0) {
		if (write_i64(d, "memory.limit_in_bytes", limit, err) < 0)
			return -1;
	} else if (swap != 0) {
		if (write_i64(d, "memory.memsw.limit_in_bytes", swap, err) < 0)
			return -1;
	}
	if (r->has_memory_reservation && r->memory_reservation != 0 &&
	    write_i64(d, "memory.soft_limit_in_bytes", r->memory_reservation, err) < 0)
		return -1;
	if (r->has_memory_swappiness &&
	    write_u64(d, "memory.swappiness", r->memory_swappiness, err) < 0)
		return -1;
	if (r->has_disable_oom_killer && r->disable_oom_killer &&
	    rt_cgfs_write_at(d, "memory.oom_control", "1", err) < 0)
		return -1;
	/* memory.kernel: kmem limits are gone from the kernel (5.16 deprecated, 6.x removed);
	 * runc ignores them too. */
	return 0;
}

static bool wants_memory(const struct rt_resources *r)
{
	return (r->has_memory_limit && r->memory_limit != 0) ||
	       (r->has_memory_swap && r->memory_swap != 0) ||
	       (r->has_memory_reservation && r->memory_reservation != 0) ||
	       r->has_memory_swappiness || (r->has_disable_oom_killer && r->disable_oom_killer);
}

static int set_cpu(const struct rt_cgfs_dir *d, const struct rt_resources *r, struct wren_err **err)
{
	if (r->has_cpu_shares && r->cpu_shares != 0 &&
	    write_u64(d, "cpu.shares", r->cpu_shares, err) < 0)
		return -1;
	/* Period first: the kernel checks the quota against it. */
	if (r->has_cpu_period && r->cpu_period != 0 &&
	    write_u64(d, "cpu.cfs_period_us", r->cpu_period, err) < 0)
		return -1;
	if (r->has_cpu_quota && r->cpu_quota != 0 &&
	    write_i64(d, "cpu.cfs_quota_us", r->cpu_quota, err) < 0)
		return -1;
	if (r->has_cpu_realtime_period && r->cpu_realtime_period != 0 &&
	    write_u64(d, "cpu.rt_period_us", r->cpu_realtime_period, err) < 0)
		return -1;
	if (r->has_cpu_realtime_runtime && r->cpu_realtime_runtime != 0 &&
	    write_i64(d, "cpu.rt_runtime_us", r->cpu_realtime_runtime, err) < 0)
		return -1;
	if (r->has_cpu_idle && write_i64(d, "cpu.idle", r->cpu_idle, err) < 0)
		return -1;
	return 0;
}

static int set_hugetlb(const struct rt_cgfs_dir *d, const struct rt_resources *r,
		       struct wren_err **err)
{
	for (size_t i = 0; i < r->n_hugepage_limits; i++) {
		_cleanup_free_ char *f =
		    xasprintf("hugetlb.%s.limit_in_bytes", r->hugepage_limits[i].page_size);

		if (write_u64(d, f, r->hugepage_limits[i].limit, err) < 0)
			return -1;
	}
	return 0;
}

/* A controller's directory for the files one call writes there: opened once (each file then walks
 * one path component instead of /sys/fs/cgroup/<ctrl>/<path>/) when there is more than one file,
 * since opening the directory costs a walk and a close of its own. */
static int ctrl_dir(const struct rt_cgroup *cg, const char *ctrl, unsigned files,
		    struct rt_cgfs_dir *d, struct wren_err **err)
{
	*d = RT_CGFS_DIR(dir_of(cg, ctrl));
	if (d->path == NULL)
		return missing(ctrl, err);
	if (files > 1)
		rt_cgfs_dir_open(d);
	return 0;
}

static int update_memory(const struct rt_cgroup *cg, const struct rt_resources *r,
			 struct wren_err **err)
{
	_cleanup_cgfs_dir_ struct rt_cgfs_dir d = RT_CGFS_DIR(NULL);

	if (!wants_memory(r))
		return 0;
	/* memory.memsw.limit_in_bytes is looked at, and at least one file written */
	if (ctrl_dir(cg, "memory", 2, &d, err) < 0)
		return -1;
	return set_memory(&d, r, err);
}

static int update_cpu(const struct rt_cgroup *cg, const struct rt_resources *r,
		      struct wren_err **err)
{
	_cleanup_cgfs_dir_ struct rt_cgfs_dir d = RT_CGFS_DIR(NULL);
	unsigned files = (r->has_cpu_shares && r->cpu_shares) +
			 (r->has_cpu_period && r->cpu_period) + (r->has_cpu_quota && r->cpu_quota) +
			 (r->has_cpu_realtime_period && r->cpu_realtime_period) +
			 (r->has_cpu_realtime_runtime && r->cpu_realtime_runtime) + r->has_cpu_idle;

	if (files == 0)
		return 0;
	if (ctrl_dir(cg, "cpu", files, &d, err) < 0)
		return -1;
	return set_cpu(&d, r, err);
}

static int update_cpuset(const struct rt_cgroup *cg, const struct rt_resources *r,
			 struct wren_err **err)
{
	_cleanup_cgfs_dir_ struct rt_cgfs_dir d = RT_CGFS_DIR(NULL);
	bool cpus = r->cpu_cpus && *r->cpu_cpus, mems = r->cpu_mems && *r->cpu_mems;

	if (!cpus && !mems)
		return 0;
	if (ctrl_dir(cg, "cpuset", cpus + mems, &d, err) < 0)
		return -1;
	if (cpus && rt_cgfs_write_at(&d, "cpuset.cpus", r->cpu_cpus, err) < 0)
		return -1;
	if (mems && rt_cgfs_write_at(&d, "cpuset.mems", r->cpu_mems, err) < 0)
		return -1;
	return 0;
}

static int update_pids(const struct rt_cgroup *cg, const struct rt_resources *r,
		       struct wren_err **err)
{
	struct rt_cgfs_dir d;

	if (!r->has_pids_limit)
		return 0;
	if (ctrl_dir(cg, "pids", 1, &d, err) < 0)
		return -1;
	return r->pids_limit > 0 ? write_i64(&d, "pids.max", r->pids_limit, err)
				 : rt_cgfs_write_at(&d, "pids.max", "max", err);
}

static int update_blkio(const struct rt_cgroup *cg, const struct rt_resources *r,
			struct wren_err **err)
{
	_cleanup_cgfs_dir_ struct rt_cgfs_dir d = RT_CGFS_DIR(NULL);
	bool weight = r->has_blkio_weight && r->blkio_weight != 0;

	if (!weight && !has_blkio_devices(r))
		return 0;
	/* which weight file the scheduler has is looked at before any write */
	if (ctrl_dir(cg, "blkio", 2, &d, err) < 0)
		return -1;
	/* With the BFQ scheduler (the only one with weights on recent kernels) the file is
	 * blkio.bfq.weight. */
	if (weight && write_u64(&d,
				rt_cgfs_exists_at(&d, "blkio.bfq.weight") ? "blkio.bfq.weight"
									  : "blkio.weight",
				r->blkio_weight, err) < 0)
		return -1;
	if (has_blkio_devices(r) && set_blkio_devices(&d, r, err) < 0)
		return -1;
	return 0;
}

static int update_devices(const struct rt_cgroup *cg, const struct rt_resources *r, bool creating,
			  struct wren_err **err)
{
	_cleanup_cgfs_dir_ struct rt_cgfs_dir d = RT_CGFS_DIR(NULL);

	if (r->n_devices == 0)
		return 0;
	/* devices.list is read first (unless creating), then devices.deny and .allow written */
	if (ctrl_dir(cg, "devices", 2, &d, err) < 0)
		return -1;
	return rt_cg1_set_devices(&d, r, creating, err);
}

static int update_hugetlb(const struct rt_cgroup *cg, const struct rt_resources *r,
			  struct wren_err **err)
{
	_cleanup_cgfs_dir_ struct rt_cgfs_dir d = RT_CGFS_DIR(NULL);

	/* No hugetlb hierarchy (this host has hugetlb on the v2 mount): skip, as containerd's
	 * default tolerate_missing_hugetlb_controller does. */
	if (r->n_hugepage_limits == 0 || dir_of(cg, "hugetlb") == NULL)
		return 0;
	if (ctrl_dir(cg, "hugetlb", (unsigned)r->n_hugepage_limits, &d, err) < 0)
		return -1;
	return set_hugetlb(&d, r, err);
}

static int set_resources(const struct rt_cgroup *cg, const struct rt_resources *r, bool creating,
			 struct wren_err **err)
{
	if (r->n_unified > 0)
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
				     "linux.resources.unified: needs cgroup v2, this host runs v1");
	if (update_memory(cg, r, err) < 0 || update_cpu(cg, r, err) < 0 ||
	    update_cpuset(cg, r, err) < 0 || update_pids(cg, r, err) < 0 ||
	    update_blkio(cg, r, err) < 0 || update_devices(cg, r, creating, err) < 0 ||
	    update_hugetlb(cg, r, err) < 0)
		return -1;
	return 0;
}

int rt_cg1_update(const struct rt_cgroup *cg, const struct rt_resources *r, struct wren_err **err)
{
	return set_resources(cg, r, false, err);
}

/* ---- lifecycle --------------------------------------------------------------------------- */

/* A new cpuset cgroup starts with empty cpus and mems, and no task can join it until they are
 * set: each level we pass gets its parent's where it has none. What a level ends up with is
 * carried to the next, so no file is read twice: vals[] hold the last level's cpus and mems. */
struct cpuset_walk {
	char *vals[2];
};

static const char *const cpuset_files[] = {"cpuset.cpus", "cpuset.mems"};

static int cpuset_level(const char *dir, bool made, bool is_leaf, void *arg, struct wren_err **err)
{
	struct cpuset_walk *w = arg;

	for (size_t i = 0; i < 2; i++) {
		_cleanup_free_ char *cur = NULL;

		/* A level made just now has nothing of its own (or, with the parent's
		 * cgroup.clone_children, a copy of the parent's, which is what is written): no need
		 * to read it. */
		if (!made && rt_cgfs_read(dir, cpuset_files[i], &cur) == 0 && cur[0] != '\0') {
			free(w->vals[i]);
			w->vals[i] = steal_ptr(&cur);
			continue;
		}
		if (w->vals[i] == NULL) { /* the first level below the hierarchy's root */
			_cleanup_free_ char *parent = xstrdup(dir);
			char *slash = strrchr(parent, '/');

			if (slash == NULL)
				return 0;
			*slash = '\0';
			if (rt_cgfs_read(parent, cpuset_files[i], &w->vals[i]) < 0)
				return wren_err_errno(err, errno, "cgroup: read %s/%s", parent,
						      cpuset_files[i]);
		}
		if (rt_cgfs_write(dir, cpuset_files[i], w->vals[i], err) < 0)
			return -1;
	}
	return 0;
}

int rt_cg1_create(struct rt_cgroup *cg, const struct rt_resources *res, struct wren_err **err)
{
	char **made = NULL;
	size_t n_made = 0;

	if (find_hierarchies(cg, err) < 0)
		return -1;
	for (size_t i = 0; i < cg->n_dirs; i++) {
		_cleanup_free_ char *mnt = mount_of(cg, i);
		struct cpuset_walk w = {{NULL, NULL}};
		bool cpuset = has_ctrl(cg->ctrls[i], "cpuset");
		int r = rt_cgfs_mkdir_levels(mnt, cg->path, &made, &n_made,
					     cpuset ? cpuset_level : NULL, &w, err);

		free(w.vals[0]);
		free(w.vals[1]);
		if (r < 0)
			goto fail;
	}
	if (set_resources(cg, res, true, err) < 0)
		goto fail;
	for (size_t i = 0; i < n_made; i++)
		free(made[i]);
	free(made);
	return 0;
fail:
	rt_cgfs_undo_mkdirs(made, n_made);
	return wren_err_wrap(err, "create cgroup %s", cg->path);
}

int rt_cg1_open(struct rt_cgroup *cg, struct wren_err **err)
{
	size_t keep = 0;

	if (find_hierarchies(cg, err) < 0)
		return -1;
	/* Only the hierarchies the cgroup is in: a partial one (a crash mid-create) still opens. */
	for (size_t i = 0; i < cg->n_dirs; i++) {
		struct stat st;

		if (stat(cg->dirs[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			cg->dirs[keep] = cg->dirs[i];
			cg->ctrls[keep++] = cg->ctrls[i];
		} else {
			free(cg->dirs[i]);
			free(cg->ctrls[i]);
		}
	}
	cg->n_dirs = keep;
	if (keep == 0)
		return wren_err_code(err, WREN_E_NOT_FOUND, "cgroup %s: not found", cg->path);
	return 0;
}

int rt_cg1_attach(const struct rt_cgroup *cg, pid_t pid, struct wren_err **err)
{
	char b[16];
	int n = snprintf(b, sizeof(b), "%d", (int)pid);

	for (size_t i = 0; i < cg->n_dirs; i++) {
		int *fd = &cg->procs_fds[i];
		bool fresh;

		do {
			fresh = *fd < 0;
			if (fresh) {
				_cleanup_free_ char *p =
				    xstrjoin(cg->dirs[i], "/cgroup.procs", NULL);

				if ((*fd = open(p, O_WRONLY | O_CLOEXEC)) < 0)
					return wren_err_errno(err, errno, "cgroup: open %s", p);
			}
			if (write(*fd, b, (size_t)n) == n)
				break;
			/* A kept file of a cgroup removed (and maybe made again) since: open the
			 * path again once, as an attach by path would. */
			int e = errno;

			closep(fd);
			if (fresh)
				return wren_err_errno(err, e,
						      "cgroup: write %s/cgroup.procs = \"%s\"",
						      cg->dirs[i], b);
		} while (!fresh);
	}
	return 0;
}

/* Any hierarchy lists the same processes; prefer the ones every host has. */
static const char *procs_dir(const struct rt_cgroup *cg)
{
	static const char *const pref[] = {"pids", "memory", "freezer", "cpu"};

	for (size_t i = 0; i < sizeof(pref) / sizeof(pref[0]); i++) {
		const char *d = dir_of(cg, pref[i]);
		if (d != NULL)
			return d;
	}
	return cg->n_dirs ? cg->dirs[0] : NULL;
}

int rt_cg1_pids(const struct rt_cgroup *cg, pid_t **out, size_t *n, struct wren_err **err)
{
	const char *d = procs_dir(cg);

	if (d == NULL) {
		*out = NULL;
		*n = 0;
		return 0;
	}
	return rt_cgfs_pids(d, out, n, err);
}

static int freezer_wait(const char *d, const char *want, struct wren_err **err)
{
	int64_t deadline = rt_cgfs_now_ms() + RT_CGROUP_WAIT_MS;

	for (int i = 0;; i++) {
		_cleanup_free_ char *st = NULL;

		if (rt_cgfs_read(d, "freezer.state", &st) < 0)
			return wren_err_errno(err, errno, "cgroup: read %s/freezer.state", d);
		if (strcmp(st, want) == 0)
			return 0;
		if (rt_cgfs_now_ms() >= deadline)
			return wren_err_code(err, WREN_E_UNKNOWN, "cgroup %s: still %s, not %s", d,
					     st, want);
		/* A task forking while the freezer works can leave it FREEZING: ask again. */
		if (i % 10 == 9 && rt_cgfs_write(d, "freezer.state", want, err) < 0)
			return -1;
		rt_cgfs_sleep_ms(i < 10 ? 1 : 10);
	}
}

int rt_cg1_freeze(const struct rt_cgroup *cg, bool frozen, struct wren_err **err)
{
	const char *d = dir_of(cg, "freezer");
	const char *want = frozen ? "FROZEN" : "THAWED";

	if (d == NULL)
		return wren_err_code(err, WREN_E_FAILED_PRECONDITION,
				     "cgroup %s: the freezer controller is not mounted", cg->path);
	if (rt_cgfs_write(d, "freezer.state", want, err) < 0)
		return -1;
	return freezer_wait(d, want, err);
}

/* Frozen, the processes cannot fork between our reading the list and signalling it. Without a
 * freezer we still signal what we see. */
int rt_cg1_kill(const struct rt_cgroup *cg, int sig, struct wren_err **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	bool frozen = dir_of(cg, "freezer") != NULL && rt_cg1_freeze(cg, true, NULL) == 0;
	size_t n = 0;
	int r;

	r = rt_cg1_pids(cg, &pids, &n, err);
	if (r == 0)
		r = rt_cgfs_signal_pids(pids, n, sig, err);
	if (frozen && rt_cg1_freeze(cg, false, r < 0 ? NULL : err) < 0)
		r = -1;
	return r;
}

int rt_cg1_destroy(struct rt_cgroup *cg, struct wren_err **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	const char *d = procs_dir(cg);

	for (size_t i = 0; i < cg->n_dirs; i++)
		closep(&cg->procs_fds[i]);
	/* The kernel refuses to remove a cgroup that has processes or cgroups below it (EBUSY),
	 * so a removal that works is the proof that there is nothing to list or kill: the usual
	 * case, when the container's processes have all exited, costs one rmdir per hierarchy. */
	if (d != NULL && rmdir(d) < 0 && errno != ENOENT) {
		if (rt_cgfs_pids(d, &pids, &n, NULL) == 0 && n > 0 &&
		    (rt_cg1_kill(cg, SIGKILL, err) < 0 || rt_cgfs_wait_empty(d, err) < 0))
			return wren_err_wrap(err, "remove cgroup %s", cg->path);
		d = NULL; /* removed below with the others */
	}
	for (size_t i = 0; i < cg->n_dirs; i++)
		if (cg->dirs[i] != d && rt_cgfs_rmdir_tree(cg->dirs[i], err) < 0)
			return -1;
	return 0;
}
