/* A cgroup's counters from cgroupfs (see cgroup_stats.h). Plain file reads in the daemon, no
 * libcgroup: see the top of cgroup.c for why. Which files, and how containerd reads them, follow
 * containerd's cgroups package so that `ctr task metrics` and CRI see the values they expect:
 * memory.stat keys by name, "max" as no limit, blkio's CFQ files with a fallback to the throttle
 * ones, user/system CPU time from cpuacct.stat's clock ticks. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cgroup_fs.h"
#include "runtime/cgroup_stats.h"
#include "runtime/util.h"

/* ---- parsing ------------------------------------------------------------------------------ */

/* A cgroupfs number: decimal, or "max" (no limit) as UINT64_MAX. A negative number (v1's
 * "-1" for no limit in a few files) is UINT64_MAX too. */
static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, "max", 3) == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	if (*s == '-') {
		*out = UINT64_MAX;
		return 0;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno != 0)
		return -1;
	*out = v;
	return 0;
}

/* Read dir/file as one number. -1 with errno (ENOENT when the file is missing, EINVAL when it
 * does not hold a number). */
static int read_u64(const char *dir, const char *file, uint64_t *out)
{
	_cleanup_free_ char *buf = NULL;

	if (rt_cgfs_read(dir, file, &buf) < 0)
		return -1;
	if (parse_u64(buf, out) < 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int read_u64_err(const char *dir, const char *file, uint64_t *out, struct wren_err **err)
{
	if (read_u64(dir, file, out) < 0)
		return wren_err_errno(err, errno, "cgroup stats: read %s/%s", dir, file);
	return 0;
}

/* A file that not every kernel or configuration has: missing leaves *out alone. */
static int read_u64_opt(const char *dir, const char *file, uint64_t *out, struct wren_err **err)
{
	if (read_u64(dir, file, out) < 0 && errno != ENOENT)
		return wren_err_errno(err, errno, "cgroup stats: read %s/%s", dir, file);
	return 0;
}

struct kv_field {
	const char *key;
	size_t off; /* of a uint64_t in the struct being filled */
};

/* "key value" lines (memory.stat, cpu.stat, memory.events, ...): known keys are stored, others
 * ignored (kernels add keys over time). */
static void parse_kv(const char *buf, const struct kv_field *t, size_t n, void *base)
{
	for (const char *line = buf; *line;) {
		const char *eol = strchrnul(line, '\n');
		const char *sp = memchr(line, ' ', (size_t)(eol - line));

		if (sp != NULL) {
			size_t kl = (size_t)(sp - line);

			for (size_t i = 0; i < n; i++) {
				if (strlen(t[i].key) == kl && strncmp(t[i].key, line, kl) == 0) {
					uint64_t v;

					if (parse_u64(sp + 1, &v) == 0)
						*(uint64_t *)((char *)base + t[i].off) = v;
					break;
				}
			}
		}
		line = *eol ? eol + 1 : eol;
	}
}

/* Read dir/file and parse it as key-value lines; a missing file is an error only if required. */
static int read_kv(const char *dir, const char *file, const struct kv_field *t, size_t n,
		   void *base, bool required, struct wren_err **err)
{
	_cleanup_free_ char *buf = NULL;

	if (rt_cgfs_read(dir, file, &buf) < 0) {
		if (errno == ENOENT && !required)
			return 0;
		return wren_err_errno(err, errno, "cgroup stats: read %s/%s", dir, file);
	}
	parse_kv(buf, t, n, base);
	return 0;
}

/* The cgroup must still be there; its files may vary. */
static int dir_present(const char *dir, struct wren_err **err)
{
	struct stat st;

	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (errno == ENOENT || errno == 0)
		return wren_err_code(err, WREN_E_NOT_FOUND, "cgroup %s: not found", dir);
	return wren_err_errno(err, errno, "cgroup stats: stat %s", dir);
}

#define N(t) (sizeof(t) / sizeof((t)[0]))

/* ---- v1 ----------------------------------------------------------------------------------- */

#define M1(k)                                                                                      \
	{                                                                                          \
#k, offsetof(struct rt_cg1_stats, memory.k)                                        \
	}
static const struct kv_field v1_memory_stat[] = {
    M1(cache),
    M1(rss),
    M1(rss_huge),
    M1(mapped_file),
    M1(dirty),
    M1(writeback),
    M1(pgpgin),
    M1(pgpgout),
    M1(pgfault),
    M1(pgmajfault),
    M1(inactive_anon),
    M1(active_anon),
    M1(inactive_file),
    M1(active_file),
    M1(unevictable),
    M1(hierarchical_memory_limit),
    M1(hierarchical_memsw_limit),
    M1(total_cache),
    M1(total_rss),
    M1(total_rss_huge),
    M1(total_mapped_file),
    M1(total_dirty),
    M1(total_writeback),
    M1(total_pgpgin),
    M1(total_pgpgout),
    M1(total_pgfault),
    M1(total_pgmajfault),
    M1(total_inactive_anon),
    M1(total_active_anon),
    M1(total_inactive_file),
    M1(total_active_file),
    M1(total_unevictable),
};

static const struct kv_field v1_oom_control[] = {
    M1(oom_kill_disable),
    M1(under_oom),
    M1(oom_kill),
};
#undef M1

static const struct kv_field v1_cpu_stat[] = {
    {"nr_periods", offsetof(struct rt_cg1_stats, cpu.periods)},
    {"nr_throttled", offsetof(struct rt_cg1_stats, cpu.throttled_periods)},
    {"throttled_time", offsetof(struct rt_cg1_stats, cpu.throttled_time)},
};

/* cpuacct.usage_percpu: one number per possible CPU, space-separated. */
static int read_per_cpu(const char *dir, struct rt_cg1_stats *s, struct wren_err **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t cap = 0;

	if (rt_cgfs_read(dir, "cpuacct.usage_percpu", &buf) < 0) {
		if (errno == ENOENT)
			return 0;
		return wren_err_errno(err, errno, "cgroup stats: read %s/cpuacct.usage_percpu",
				      dir);
	}
	for (char *p = buf, *end;; p = end) {
		unsigned long long v;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (end == p || errno != 0)
			return wren_err_code(err, WREN_E_UNKNOWN,
					     "cgroup stats: %s/cpuacct.usage_percpu: not a number "
					     "list",
					     dir);
		if (s->cpu.n_per_cpu == cap) {
			cap = cap ? cap * 2 : 8;
			s->cpu.per_cpu = xrealloc(s->cpu.per_cpu, cap * sizeof(uint64_t));
		}
		s->cpu.per_cpu[s->cpu.n_per_cpu++] = v;
	}
	return 0;
}

static int read_cpuacct(const char *dir, struct rt_cg1_stats *s, struct wren_err **err)
{
	if (read_u64_err(dir, "cpuacct.usage", &s->cpu.total, err) < 0 ||
	    read_per_cpu(dir, s, err) < 0)
		return -1;
	/* user and system from cpuacct.stat's clock ticks, as containerd reads them (the
	 * nanosecond cpuacct.usage_user/usage_sys count differently and can exceed the total). */
	struct {
		uint64_t user, system;
	} ticks = {0, 0};
	static const struct kv_field t[] = {{"user", 0}, {"system", sizeof(uint64_t)}};
	long hz = sysconf(_SC_CLK_TCK);

	if (read_kv(dir, "cpuacct.stat", t, N(t), &ticks, true, err) < 0)
		return -1;
	if (hz <= 0)
		hz = 100;
	s->cpu.user = ticks.user * (1000000000ULL / (uint64_t)hz);
	s->cpu.kernel = ticks.system * (1000000000ULL / (uint64_t)hz);
	s->has_cpu = true;
	return 0;
}

static int read_mem_entry(const char *dir, const char *module, struct rt_cg1_mem_entry *e,
			  bool required, struct wren_err **err)
{
	const struct {
		const char *name;
		uint64_t *v;
	} f[] = {
	    {"usage_in_bytes", &e->usage},
	    {"max_usage_in_bytes", &e->max},
	    {"failcnt", &e->failcnt},
	    {"limit_in_bytes", &e->limit},
	};

	for (size_t i = 0; i < N(f); i++) {
		_cleanup_free_ char *file = module ? xasprintf("memory.%s.%s", module, f[i].name)
						   : xasprintf("memory.%s", f[i].name);

		if (read_u64(dir, file, f[i].v) < 0) {
			/* swap accounting off, kmem gone (6.x): the entry stays zero */
			if (errno == ENOENT && !required)
				return 0;
			return wren_err_errno(err, errno, "cgroup stats: read %s/%s", dir, file);
		}
	}
	return 0;
}

static int read_memory_v1(const char *dir, struct rt_cg1_stats *s, struct wren_err **err)
{
	if (read_kv(dir, "memory.stat", v1_memory_stat, N(v1_memory_stat), s, true, err) < 0 ||
	    read_mem_entry(dir, NULL, &s->memory.usage, true, err) < 0 ||
	    read_mem_entry(dir, "memsw", &s->memory.memsw, false, err) < 0 ||
	    read_mem_entry(dir, "kmem", &s->memory.kmem, false, err) < 0 ||
	    read_mem_entry(dir, "kmem.tcp", &s->memory.kmem_tcp, false, err) < 0 ||
	    read_kv(dir, "memory.oom_control", v1_oom_control, N(v1_oom_control), s, false, err) <
		0)
		return -1;
	s->has_memory = true;
	return 0;
}

static int read_pids_v1(const char *dir, struct rt_cg1_stats *s, struct wren_err **err)
{
	if (read_u64_err(dir, "pids.current", &s->pids.current, err) < 0 ||
	    read_u64_err(dir, "pids.max", &s->pids.limit, err) < 0)
		return -1;
	if (s->pids.limit == UINT64_MAX)
		s->pids.limit = 0; /* containerd's v1 reading of "max" */
	s->has_pids = true;
	return 0;
}

/* "8:0 Read 4096" lines ("8:0 40" in the files without an op); the last line, "Total 4096", sums
 * the others and is skipped, as containerd does. */
static int read_blkio_file(const char *dir, const char *file, struct rt_cg1_blkio_list *l,
			   struct wren_err **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t cap = 0;

	if (rt_cgfs_read(dir, file, &buf) < 0) {
		if (errno == ENOENT)
			return 0;
		return wren_err_errno(err, errno, "cgroup stats: read %s/%s", dir, file);
	}
	for (char *line = buf, *eol; *line; line = *eol ? eol + 1 : eol) {
		struct rt_cg1_blkio_entry e = {{0}, 0, 0, 0};
		unsigned long long maj, min, v;
		char op[sizeof(e.op)];

		eol = strchrnul(line, '\n');
		if (sscanf(line, "%llu:%llu %15s %llu", &maj, &min, op, &v) == 4)
			snprintf(e.op, sizeof(e.op), "%s", op);
		else if (sscanf(line, "%llu:%llu %llu", &maj, &min, &v) != 3)
			continue; /* "Total N", or nothing we know */
		e.major = maj;
		e.minor = min;
		e.value = v;
		if (l->n == cap) {
			cap = cap ? cap * 2 : 8;
			l->e = xrealloc(l->e, cap * sizeof(*l->e));
		}
		l->e[l->n++] = e;
	}
	return 0;
}

static int read_blkio(const char *dir, struct rt_cg1_stats *s, struct wren_err **err)
{
	const struct {
		const char *file;
		struct rt_cg1_blkio_list *l;
	} cfq[] =
	    {
		{"blkio.io_service_bytes_recursive", &s->blkio.service_bytes},
		{"blkio.io_serviced_recursive", &s->blkio.serviced},
		{"blkio.io_queued_recursive", &s->blkio.queued},
		{"blkio.io_service_time_recursive", &s->blkio.service_time},
		{"blkio.io_wait_time_recursive", &s->blkio.wait_time},
		{"blkio.io_merged_recursive", &s->blkio.merged},
		{"blkio.time_recursive", &s->blkio.time},
		{"blkio.sectors_recursive", &s->blkio.sectors},
	    },
	  throttle[] = {
	      {"blkio.throttle.io_service_bytes_recursive", &s->blkio.service_bytes},
	      {"blkio.throttle.io_serviced_recursive", &s->blkio.serviced},
	  };
	/* The CFQ scheduler's files are gone from recent kernels: the throttle layer's counters
	 * are what is left, as containerd falls back to. */
	bool has_cfq = rt_cgfs_exists(dir, "blkio.io_serviced_recursive");

	for (size_t i = 0; i < (has_cfq ? N(cfq) : N(throttle)); i++)
		if (read_blkio_file(dir, has_cfq ? cfq[i].file : throttle[i].file,
				    has_cfq ? cfq[i].l : throttle[i].l, err) < 0)
			return -1;
	s->has_blkio = true;
	return 0;
}

/* Page sizes from the names of the hugetlb.<size>.<suffix> files of dir, in directory order. */
static int hugetlb_sizes(const char *dir, const char *suffix, char ***out, size_t *n,
			 struct wren_err **err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t sl = strlen(suffix);

	*out = NULL;
	*n = 0;
	if (d == NULL)
		return wren_err_errno(err, errno, "cgroup stats: open %s", dir);
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		size_t len = strlen(name);

		if (strncmp(name, "hugetlb.", 8) != 0 || len <= 8 + sl ||
		    strcmp(name + len - sl, suffix) != 0)
			continue;
		*out = xrealloc(*out, (*n + 1) * sizeof(char *));
		(*out)[(*n)++] = xstrndup(name + 8, len - 8 - sl);
	}
	closedir(d);
	return 0;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int read_hugetlb_v1(const char *dir, struct rt_cg1_stats *s, struct wren_err **err)
{
	char **sizes = NULL;
	size_t n = 0;
	int r = 0;

	if (hugetlb_sizes(dir, ".usage_in_bytes", &sizes, &n, err) < 0)
		return -1;
	s->hugetlb = n ? xzalloc(n * sizeof(*s->hugetlb)) : NULL;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct rt_cg1_hugetlb *h = &s->hugetlb[s->n_hugetlb++];
		_cleanup_free_ char *u = xasprintf("hugetlb.%s.usage_in_bytes", sizes[i]);
		_cleanup_free_ char *m = xasprintf("hugetlb.%s.max_usage_in_bytes", sizes[i]);
		_cleanup_free_ char *f = xasprintf("hugetlb.%s.failcnt", sizes[i]);

		snprintf(h->pagesize, sizeof(h->pagesize), "%s", sizes[i]);
		if (read_u64_err(dir, u, &h->usage, err) < 0 ||
		    read_u64_opt(dir, m, &h->max, err) < 0 ||
		    read_u64_opt(dir, f, &h->failcnt, err) < 0)
			r = -1;
	}
	free_strv(sizes, n);
	return r;
}

int rt_cgroup_stats_read_v1(const struct rt_cg1_stat_dirs *d, struct rt_cg1_stats *s,
			    struct wren_err **err)
{
	const char *const all[] = {d->cpu, d->cpuacct, d->memory, d->pids, d->blkio, d->hugetlb};

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < N(all); i++)
		if (all[i] != NULL && dir_present(all[i], err) < 0)
			return -1;
	if ((d->cpuacct && read_cpuacct(d->cpuacct, s, err) < 0) ||
	    (d->cpu &&
	     read_kv(d->cpu, "cpu.stat", v1_cpu_stat, N(v1_cpu_stat), s, false, err) < 0) ||
	    (d->memory && read_memory_v1(d->memory, s, err) < 0) ||
	    (d->pids && read_pids_v1(d->pids, s, err) < 0) ||
	    (d->blkio && read_blkio(d->blkio, s, err) < 0) ||
	    (d->hugetlb && read_hugetlb_v1(d->hugetlb, s, err) < 0)) {
		rt_cg1_stats_clear(s);
		return -1;
	}
	return 0;
}

void rt_cg1_stats_clear(struct rt_cg1_stats *s)
{
	struct rt_cg1_blkio_list *lists[] = {
	    &s->blkio.service_bytes, &s->blkio.serviced, &s->blkio.queued, &s->blkio.service_time,
	    &s->blkio.wait_time,     &s->blkio.merged,	 &s->blkio.time,   &s->blkio.sectors,
	};

	free(s->cpu.per_cpu);
	for (size_t i = 0; i < N(lists); i++)
		free(lists[i]->e);
	free(s->hugetlb);
	memset(s, 0, sizeof(*s));
}

/* ---- v2 ----------------------------------------------------------------------------------- */

#define M2(k)                                                                                      \
	{                                                                                          \
#k, offsetof(struct rt_cg2_stats, memory.k)                                        \
	}
static const struct kv_field v2_memory_stat[] = {
    M2(anon),
    M2(file),
    M2(kernel_stack),
    M2(slab),
    M2(sock),
    M2(shmem),
    M2(file_mapped),
    M2(file_dirty),
    M2(file_writeback),
    M2(anon_thp),
    M2(inactive_anon),
    M2(active_anon),
    M2(inactive_file),
    M2(active_file),
    M2(unevictable),
    M2(slab_reclaimable),
    M2(slab_unreclaimable),
    M2(pgfault),
    M2(pgmajfault),
    M2(workingset_refault),
    M2(workingset_activate),
    M2(workingset_nodereclaim),
    M2(pgrefill),
    M2(pgscan),
    M2(pgsteal),
    M2(pgactivate),
    M2(pgdeactivate),
    M2(pglazyfree),
    M2(pglazyfreed),
    M2(thp_fault_alloc),
    M2(thp_collapse_alloc),
    /* 5.9 split workingset_refault/activate by anon and file; the file part is what the
     * older key counted. */
    {"workingset_refault_file", offsetof(struct rt_cg2_stats, memory.workingset_refault)},
    {"workingset_activate_file", offsetof(struct rt_cg2_stats, memory.workingset_activate)},
};
#undef M2

#define C2(k)                                                                                      \
	{                                                                                          \
#k, offsetof(struct rt_cg2_stats, cpu.k)                                           \
	}
static const struct kv_field v2_cpu_stat[] = {
    C2(usage_usec), C2(user_usec),    C2(system_usec),
    C2(nr_periods), C2(nr_throttled), C2(throttled_usec),
};
#undef C2

#define E2(k)                                                                                      \
	{                                                                                          \
#k, offsetof(struct rt_cg2_stats, memory_events.k)                                 \
	}
static const struct kv_field v2_memory_events[] = {
    E2(low), E2(high), E2(max), E2(oom), E2(oom_kill),
};
#undef E2

static int read_memory_v2(const char *dir, struct rt_cg2_stats *s, struct wren_err **err)
{
	if (!rt_cgfs_exists(dir, "memory.stat"))
		return 0; /* memory controller not enabled here */
	if (read_kv(dir, "memory.stat", v2_memory_stat, N(v2_memory_stat), s, true, err) < 0 ||
	    read_u64_err(dir, "memory.current", &s->memory.usage, err) < 0 ||
	    read_u64_err(dir, "memory.max", &s->memory.usage_limit, err) < 0 ||
	    read_u64_opt(dir, "memory.swap.current", &s->memory.swap_usage, err) < 0 ||
	    read_u64_opt(dir, "memory.swap.max", &s->memory.swap_limit, err) < 0 ||
	    read_u64_opt(dir, "memory.peak", &s->memory.max_usage, err) < 0 ||
	    read_u64_opt(dir, "memory.swap.peak", &s->memory.swap_max_usage, err) < 0)
		return -1;
	s->has_memory = true;
	if (rt_cgfs_exists(dir, "memory.events")) {
		if (read_kv(dir, "memory.events", v2_memory_events, N(v2_memory_events), s, true,
			    err) < 0)
			return -1;
		s->has_memory_events = true;
	}
	return 0;
}

/* "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device. */
static int read_io_v2(const char *dir, struct rt_cg2_stats *s, struct wren_err **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t cap = 0;

	if (rt_cgfs_read(dir, "io.stat", &buf) < 0) {
		if (errno == ENOENT)
			return 0;
		return wren_err_errno(err, errno, "cgroup stats: read %s/io.stat", dir);
	}
	s->has_io = true;
	for (char *line = buf, *eol; *line; line = *eol ? eol + 1 : eol) {
		struct rt_cg2_io_entry e = {0, 0, 0, 0, 0, 0};
		unsigned long long maj, min;
		int used = 0;

		eol = strchrnul(line, '\n');
		if (sscanf(line, "%llu:%llu%n", &maj, &min, &used) != 2)
			continue;
		e.major = maj;
		e.minor = min;
		for (char *p = line + used; p < eol;) {
			char *tok_end;
			uint64_t v = 0;

			while (p < eol && *p == ' ')
				p++;
			tok_end = p;
			while (tok_end < eol && *tok_end != ' ')
				tok_end++;
			char *eq = memchr(p, '=', (size_t)(tok_end - p));
			if (eq != NULL && parse_u64(eq + 1, &v) == 0) {
				size_t kl = (size_t)(eq - p);

				if (kl == 6 && !strncmp(p, "rbytes", 6))
					e.rbytes = v;
				else if (kl == 6 && !strncmp(p, "wbytes", 6))
					e.wbytes = v;
				else if (kl == 4 && !strncmp(p, "rios", 4))
					e.rios = v;
				else if (kl == 4 && !strncmp(p, "wios", 4))
					e.wios = v;
			}
			p = tok_end;
		}
		if (s->n_io == cap) {
			cap = cap ? cap * 2 : 4;
			s->io = xrealloc(s->io, cap * sizeof(*s->io));
		}
		s->io[s->n_io++] = e;
	}
	return 0;
}

static int read_hugetlb_v2(const char *dir, struct rt_cg2_stats *s, struct wren_err **err)
{
	char **sizes = NULL;
	size_t n = 0;
	int r = 0;

	if (hugetlb_sizes(dir, ".current", &sizes, &n, err) < 0)
		return -1;
	s->hugetlb = n ? xzalloc(n * sizeof(*s->hugetlb)) : NULL;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct rt_cg2_hugetlb *h = &s->hugetlb[s->n_hugetlb++];
		_cleanup_free_ char *c = xasprintf("hugetlb.%s.current", sizes[i]);
		_cleanup_free_ char *m = xasprintf("hugetlb.%s.max", sizes[i]);

		snprintf(h->pagesize, sizeof(h->pagesize), "%s", sizes[i]);
		if (read_u64_err(dir, c, &h->current, err) < 0 ||
		    read_u64_opt(dir, m, &h->max, err) < 0)
			r = -1;
	}
	free_strv(sizes, n);
	return r;
}

int rt_cgroup_stats_read_v2(const char *dir, struct rt_cg2_stats *s, struct wren_err **err)
{
	memset(s, 0, sizeof(*s));
	if (dir_present(dir, err) < 0)
		return -1;
	/* cpu.stat is a core file (usage only without the cpu controller). */
	if (rt_cgfs_exists(dir, "cpu.stat")) {
		if (read_kv(dir, "cpu.stat", v2_cpu_stat, N(v2_cpu_stat), s, true, err) < 0)
			goto fail;
		s->has_cpu = true;
	}
	if (read_memory_v2(dir, s, err) < 0)
		goto fail;
	if (rt_cgfs_exists(dir, "pids.current")) {
		if (read_u64_err(dir, "pids.current", &s->pids.current, err) < 0 ||
		    read_u64_err(dir, "pids.max", &s->pids.limit, err) < 0)
			goto fail;
		s->has_pids = true;
	}
	if (read_io_v2(dir, s, err) < 0 || read_hugetlb_v2(dir, s, err) < 0)
		goto fail;
	return 0;
fail:
	rt_cg2_stats_clear(s);
	return -1;
}

void rt_cg2_stats_clear(struct rt_cg2_stats *s)
{
	free(s->io);
	free(s->hugetlb);
	memset(s, 0, sizeof(*s));
}

/* ---- a live cgroup ------------------------------------------------------------------------ */

static const char *v1_dir(const struct rt_cgroup *cg, const char *ctrl)
{
	size_t cl = strlen(ctrl);

	for (size_t i = 0; i < cg->n_dirs; i++) {
		for (const char *s = cg->ctrls[i]; *s;) {
			const char *e = strchrnul(s, ',');

			if ((size_t)(e - s) == cl && strncmp(s, ctrl, cl) == 0)
				return cg->dirs[i];
			s = *e ? e + 1 : e;
		}
	}
	return NULL;
}

int rt_cgroup_stats(const struct rt_cgroup *cg, struct rt_cgroup_stats *out, struct wren_err **err)
{
	memset(out, 0, sizeof(*out));
	out->mode = cg->mode;
	if (cg->mode == RT_CGROUP_V2)
		return rt_cgroup_stats_read_v2(cg->dir, &out->v2, err);

	struct rt_cg1_stat_dirs d = {
	    .cpu = v1_dir(cg, "cpu"),
	    .cpuacct = v1_dir(cg, "cpuacct"),
	    .memory = v1_dir(cg, "memory"),
	    .pids = v1_dir(cg, "pids"),
	    .blkio = v1_dir(cg, "blkio"),
	    .hugetlb = v1_dir(cg, "hugetlb"),
	};
	return rt_cgroup_stats_read_v1(&d, &out->v1, err);
}

void rt_cgroup_stats_clear(struct rt_cgroup_stats *s)
{
	rt_cg1_stats_clear(&s->v1);
	rt_cg2_stats_clear(&s->v2);
}

const char *rt_cgroup_memory_dir(const struct rt_cgroup *cg)
{
	return cg->mode == RT_CGROUP_V2 ? cg->dir : v1_dir(cg, "memory");
}
