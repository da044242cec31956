/* Pause, Resume, Update and Stats on the task API, and the OOM watch (see cgroup_ops.h).
 * Behaviour and wording follow containerd-shim-runc-v2 (shim-protocol.md §4.3, §4.4): state
 * errors are UNKNOWN with runc-v2's texts, a missing cgroup is NOT_FOUND "cgroup does not
 * exist". The cgroup work itself is runtime/'s (container_cgroup.c, cgroup_stats.c, oom.c). */
#include <errno.h>
#include <string.h>

#include "containerd/cgroups/metrics_v1.pb-c.h"
#include "containerd/cgroups/metrics_v2.pb-c.h"
#include "containerd/events/task_events.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "runtime/cgroup_stats.h"
#include "runtime/oom.h"
#include "runtime/util.h"
#include "shim/any.h"
#include "shim/cgroup_ops.h"
#include "shim/events.h"
#include "shim/log.h"
#include "shim/reply.h"

#define LINUX_RESOURCES_URL "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"

#define DEFINE_FREEP(T, fn)                                                                        \
	static inline void fn##_freep(T **p)                                                       \
	{                                                                                          \
		if (*p)                                                                            \
			fn##__free_unpacked(*p, NULL);                                             \
	}
DEFINE_FREEP(Containerd__Task__V2__PauseRequest, containerd__task__v2__pause_request)
DEFINE_FREEP(Containerd__Task__V2__ResumeRequest, containerd__task__v2__resume_request)
DEFINE_FREEP(Containerd__Task__V2__UpdateTaskRequest, containerd__task__v2__update_task_request)
DEFINE_FREEP(Containerd__Task__V2__StatsRequest, containerd__task__v2__stats_request)

/* Unpack the request into `req` (freed at scope exit) or answer INVALID_ARGUMENT. */
#define UNPACK(T, fn, call, req)                                                                   \
	size_t _len_##req;                                                                         \
	const uint8_t *_buf_##req = ttrpc_call_payload(call, &_len_##req);                         \
	T *req __attribute__((cleanup(fn##_freep))) = fn##__unpack(NULL, _len_##req, _buf_##req);  \
	if (!req) {                                                                                \
		ttrpc_call_reply_error(call, TTRPC_INVALID_ARGUMENT, "invalid %s request",         \
				       ttrpc_call_method(call));                                   \
		return;                                                                            \
	}

static struct shim_container *find_or_reply(struct shim *s, struct ttrpc_call *call, const char *id)
{
	struct shim_container *c = shim_task_find(s, id);

	if (!c)
		ttrpc_call_reply_error(call, TTRPC_NOT_FOUND, "container not created: not found");
	return c;
}

/* An init whose exit is recorded or only reaped (waiting for its execs') is stopped. */
static bool init_stopped(const struct shim_container *c)
{
	return c->init.reaped || c->init.exited || c->init.status == PROC_STOPPED;
}

static void publish_container_event(struct shim *s, const char *topic, const char *type,
				    struct shim_container *c)
{
	/* TaskPaused, TaskResumed and TaskOOM are all {1: container_id}. */
	if (!strcmp(type, "containerd.events.TaskOOM")) {
		Containerd__Events__TaskOOM ev = CONTAINERD__EVENTS__TASK_OOM__INIT;
		ev.container_id = c->id;
		shim_publish(s->events, topic, type, &ev.base);
	} else if (!strcmp(type, "containerd.events.TaskPaused")) {
		Containerd__Events__TaskPaused ev = CONTAINERD__EVENTS__TASK_PAUSED__INIT;
		ev.container_id = c->id;
		shim_publish(s->events, topic, type, &ev.base);
	} else {
		Containerd__Events__TaskResumed ev = CONTAINERD__EVENTS__TASK_RESUMED__INIT;
		ev.container_id = c->id;
		shim_publish(s->events, topic, type, &ev.base);
	}
}

/* ---- Pause / Resume ---------------------------------------------------------------------- */

void shim_h_pause(struct ttrpc_call *call, void *ud)
{
	struct shim *s = ud;
	_cleanup_err_ struct wren_err *err = NULL;
	struct shim_container *c;
	UNPACK(Containerd__Task__V2__PauseRequest, containerd__task__v2__pause_request, call, req);

	c = find_or_reply(s, call, req->id);
	if (!c)
		return;
	if (init_stopped(c)) {
		ttrpc_call_reply_error(call, TTRPC_UNKNOWN, "cannot pause a stopped container");
		return;
	}
	switch (c->init.status) {
	case PROC_RUNNING:
		break;
	case PROC_PAUSED:
	case PROC_PAUSING:
		ttrpc_call_reply_error(call, TTRPC_UNKNOWN, "cannot pause a paused container");
		return;
	default:
		ttrpc_call_reply_error(call, TTRPC_UNKNOWN, "cannot pause task in created state");
		return;
	}
	/* The freezer settles in a few ms (bounded by RT_CGROUP_WAIT_MS); the state says PAUSING
	 * for that time only to a reader of this struct, since the loop is ours meanwhile. */
	c->init.status = PROC_PAUSING;
	if (rt_container_freeze(c->rt, true, &err) < 0) {
		_cleanup_err_ struct wren_err *thaw_err = NULL;

		rt_container_freeze(c->rt, false, &thaw_err); /* leave nothing half-frozen */
		c->init.status = PROC_RUNNING;
		wren_err_wrap(&err, "OCI runtime pause failed");
		shim_reply_err(call, err);
		return;
	}
	c->init.status = PROC_PAUSED;
	publish_container_event(s, "/tasks/paused", "containerd.events.TaskPaused", c);
	shim_reply_empty(call);
}

void shim_h_resume(struct ttrpc_call *call, void *ud)
{
	struct shim *s = ud;
	_cleanup_err_ struct wren_err *err = NULL;
	struct shim_container *c;
	UNPACK(Containerd__Task__V2__ResumeRequest, containerd__task__v2__resume_request, call,
	       req);

	c = find_or_reply(s, call, req->id);
	if (!c)
		return;
	if (c->init.status != PROC_PAUSED) {
		const char *msg = init_stopped(c) ? "cannot resume a stopped container"
				  : c->init.status == PROC_RUNNING
				      ? "cannot resume a running process"
				      : "cannot resume task in created state";
		ttrpc_call_reply_error(call, TTRPC_UNKNOWN, "%s", msg);
		return;
	}
	if (rt_container_freeze(c->rt, false, &err) < 0) {
		wren_err_wrap(&err, "OCI runtime resume failed");
		shim_reply_err(call, err);
		return;
	}
	c->init.status = PROC_RUNNING;
	publish_container_event(s, "/tasks/resumed", "containerd.events.TaskResumed", c);
	shim_reply_empty(call);
}

/* ---- Update ------------------------------------------------------------------------------ */

void shim_h_update(struct ttrpc_call *call, void *ud)
{
	struct shim *s = ud;
	_cleanup_err_ struct wren_err *err = NULL;
	struct rt_resources res;
	struct shim_container *c;
	int r;
	UNPACK(Containerd__Task__V2__UpdateTaskRequest, containerd__task__v2__update_task_request,
	       call, req);

	c = find_or_reply(s, call, req->id);
	if (!c)
		return;
	if (init_stopped(c)) {
		ttrpc_call_reply_error(call, TTRPC_UNKNOWN, "cannot update a stopped container");
		return;
	}
	/* annotations are ignored, as runc-v2 does */
	if (!req->resources || !req->resources->type_url ||
	    strcmp(req->resources->type_url, LINUX_RESOURCES_URL) != 0) {
		ttrpc_call_reply_error(
		    call, TTRPC_INVALID_ARGUMENT, "resources: must be a %s, got \"%s\"",
		    LINUX_RESOURCES_URL,
		    req->resources && req->resources->type_url ? req->resources->type_url : "");
		return;
	}
	if (rt_resources_parse((const char *)req->resources->value.data, req->resources->value.len,
			       &res, &err) < 0) {
		if (err && err->code == WREN_E_UNKNOWN)
			err->code =
			    WREN_E_INVALID_ARGUMENT; /* whatever is wrong, it is the request */
		shim_reply_err(call, err);
		return;
	}
	r = rt_container_update(c->rt, &res, &err);
	rt_resources_clear(&res);
	if (r < 0) {
		shim_reply_err(call, err);
		return;
	}
	shim_reply_empty(call);
}

/* ---- Stats ------------------------------------------------------------------------------- */

/* Protobuf lists point into these; freed once the reply is packed. */
struct arena {
	void **p;
	size_t n;
};

static void *arena_alloc(struct arena *a, size_t size)
{
	void *p = xzalloc(size ? size : 1);

	a->p = xrealloc(a->p, (a->n + 1) * sizeof(void *));
	a->p[a->n++] = p;
	return p;
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->p[i]);
	free(a->p);
}

static void blkio_list(struct arena *a, const struct rt_cg1_blkio_list *l, size_t *n_out,
		       Io__Containerd__Cgroups__V1__BlkIOEntry ***out)
{
	Io__Containerd__Cgroups__V1__BlkIOEntry *e = arena_alloc(a, l->n * sizeof(*e));
	Io__Containerd__Cgroups__V1__BlkIOEntry **pp = arena_alloc(a, l->n * sizeof(*pp));

	for (size_t i = 0; i < l->n; i++) {
		io__containerd__cgroups__v1__blk_ioentry__init(&e[i]);
		e[i].op = (char *)l->e[i].op;
		e[i].major = l->e[i].major;
		e[i].minor = l->e[i].minor;
		e[i].value = l->e[i].value;
		pp[i] = &e[i];
	}
	*n_out = l->n;
	*out = pp;
}

static void mem_entry(Io__Containerd__Cgroups__V1__MemoryEntry *m, const struct rt_cg1_mem_entry *e)
{
	io__containerd__cgroups__v1__memory_entry__init(m);
	m->limit = e->limit;
	m->usage = e->usage;
	m->max = e->max;
	m->failcnt = e->failcnt;
}

static Google__Protobuf__Any *metrics_v1(struct rt_cg1_stats *st)
{
	Io__Containerd__Cgroups__V1__Metrics m = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
	Io__Containerd__Cgroups__V1__PidsStat pids = IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
	Io__Containerd__Cgroups__V1__CPUStat cpu = IO__CONTAINERD__CGROUPS__V1__CPUSTAT__INIT;
	Io__Containerd__Cgroups__V1__CPUUsage usage = IO__CONTAINERD__CGROUPS__V1__CPUUSAGE__INIT;
	Io__Containerd__Cgroups__V1__Throttle thr = IO__CONTAINERD__CGROUPS__V1__THROTTLE__INIT;
	Io__Containerd__Cgroups__V1__MemoryStat mem =
	    IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
	Io__Containerd__Cgroups__V1__MemoryEntry mu, ms, mk, mt;
	Io__Containerd__Cgroups__V1__MemoryOomControl oom =
	    IO__CONTAINERD__CGROUPS__V1__MEMORY_OOM_CONTROL__INIT;
	Io__Containerd__Cgroups__V1__BlkIOStat blk = IO__CONTAINERD__CGROUPS__V1__BLK_IOSTAT__INIT;
	struct arena a = {NULL, 0};
	Google__Protobuf__Any *any;

	if (st->has_pids) {
		pids.current = st->pids.current;
		pids.limit = st->pids.limit;
		m.pids = &pids;
	}
	if (st->has_cpu) {
		usage.total = st->cpu.total;
		usage.kernel = st->cpu.kernel;
		usage.user = st->cpu.user;
		usage.n_per_cpu = st->cpu.n_per_cpu;
		usage.per_cpu = st->cpu.per_cpu;
		thr.periods = st->cpu.periods;
		thr.throttled_periods = st->cpu.throttled_periods;
		thr.throttled_time = st->cpu.throttled_time;
		cpu.usage = &usage;
		cpu.throttling = &thr;
		m.cpu = &cpu;
	}
	if (st->has_memory) {
		const typeof(st->memory) *sm = &st->memory;

		mem.cache = sm->cache;
		mem.rss = sm->rss;
		mem.rss_huge = sm->rss_huge;
		mem.mapped_file = sm->mapped_file;
		mem.dirty = sm->dirty;
		mem.writeback = sm->writeback;
		mem.pg_pg_in = sm->pgpgin;
		mem.pg_pg_out = sm->pgpgout;
		mem.pg_fault = sm->pgfault;
		mem.pg_maj_fault = sm->pgmajfault;
		mem.inactive_anon = sm->inactive_anon;
		mem.active_anon = sm->active_anon;
		mem.inactive_file = sm->inactive_file;
		mem.active_file = sm->active_file;
		mem.unevictable = sm->unevictable;
		mem.hierarchical_memory_limit = sm->hierarchical_memory_limit;
		mem.hierarchical_swap_limit = sm->hierarchical_memsw_limit;
		mem.total_cache = sm->total_cache;
		mem.total_rss = sm->total_rss;
		mem.total_rss_huge = sm->total_rss_huge;
		mem.total_mapped_file = sm->total_mapped_file;
		mem.total_dirty = sm->total_dirty;
		mem.total_writeback = sm->total_writeback;
		mem.total_pg_pg_in = sm->total_pgpgin;
		mem.total_pg_pg_out = sm->total_pgpgout;
		mem.total_pg_fault = sm->total_pgfault;
		mem.total_pg_maj_fault = sm->total_pgmajfault;
		mem.total_inactive_anon = sm->total_inactive_anon;
		mem.total_active_anon = sm->total_active_anon;
		mem.total_inactive_file = sm->total_inactive_file;
		mem.total_active_file = sm->total_active_file;
		mem.total_unevictable = sm->total_unevictable;
		mem_entry(&mu, &sm->usage);
		mem_entry(&ms, &sm->memsw);
		mem_entry(&mk, &sm->kmem);
		mem_entry(&mt, &sm->kmem_tcp);
		mem.usage = &mu;
		mem.swap = &ms;
		mem.kernel = &mk;
		mem.kernel_tcp = &mt;
		m.memory = &mem;
		oom.oom_kill_disable = sm->oom_kill_disable;
		oom.under_oom = sm->under_oom;
		oom.oom_kill = sm->oom_kill;
		m.memory_oom_control = &oom;
	}
	if (st->has_blkio) {
		blkio_list(&a, &st->blkio.service_bytes, &blk.n_io_service_bytes_recursive,
			   &blk.io_service_bytes_recursive);
		blkio_list(&a, &st->blkio.serviced, &blk.n_io_serviced_recursive,
			   &blk.io_serviced_recursive);
		blkio_list(&a, &st->blkio.queued, &blk.n_io_queued_recursive,
			   &blk.io_queued_recursive);
		blkio_list(&a, &st->blkio.service_time, &blk.n_io_service_time_recursive,
			   &blk.io_service_time_recursive);
		blkio_list(&a, &st->blkio.wait_time, &blk.n_io_wait_time_recursive,
			   &blk.io_wait_time_recursive);
		blkio_list(&a, &st->blkio.merged, &blk.n_io_merged_recursive,
			   &blk.io_merged_recursive);
		blkio_list(&a, &st->blkio.time, &blk.n_io_time_recursive, &blk.io_time_recursive);
		blkio_list(&a, &st->blkio.sectors, &blk.n_sectors_recursive,
			   &blk.sectors_recursive);
		m.blkio = &blk;
	}
	if (st->n_hugetlb) {
		Io__Containerd__Cgroups__V1__HugetlbStat *h =
		    arena_alloc(&a, st->n_hugetlb * sizeof(*h));
		Io__Containerd__Cgroups__V1__HugetlbStat **hp =
		    arena_alloc(&a, st->n_hugetlb * sizeof(*hp));

		for (size_t i = 0; i < st->n_hugetlb; i++) {
			io__containerd__cgroups__v1__hugetlb_stat__init(&h[i]);
			h[i].usage = st->hugetlb[i].usage;
			h[i].max = st->hugetlb[i].max;
			h[i].failcnt = st->hugetlb[i].failcnt;
			h[i].pagesize = st->hugetlb[i].pagesize;
			hp[i] = &h[i];
		}
		m.n_hugetlb = st->n_hugetlb;
		m.hugetlb = hp;
	}
	any = shim_any_pack("io.containerd.cgroups.v1.Metrics", &m.base);
	arena_free(&a);
	return any;
}

static Google__Protobuf__Any *metrics_v2(struct rt_cg2_stats *st)
{
	Io__Containerd__Cgroups__V2__Metrics m = IO__CONTAINERD__CGROUPS__V2__METRICS__INIT;
	Io__Containerd__Cgroups__V2__PidsStat pids = IO__CONTAINERD__CGROUPS__V2__PIDS_STAT__INIT;
	Io__Containerd__Cgroups__V2__CPUStat cpu = IO__CONTAINERD__CGROUPS__V2__CPUSTAT__INIT;
	Io__Containerd__Cgroups__V2__MemoryStat mem =
	    IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
	Io__Containerd__Cgroups__V2__MemoryEvents ev =
	    IO__CONTAINERD__CGROUPS__V2__MEMORY_EVENTS__INIT;
	Io__Containerd__Cgroups__V2__IOStat io = IO__CONTAINERD__CGROUPS__V2__IOSTAT__INIT;
	struct arena a = {NULL, 0};
	Google__Protobuf__Any *any;

	if (st->has_pids) {
		pids.current = st->pids.current;
		pids.limit = st->pids.limit;
		m.pids = &pids;
	}
	if (st->has_cpu) {
		cpu.usage_usec = st->cpu.usage_usec;
		cpu.user_usec = st->cpu.user_usec;
		cpu.system_usec = st->cpu.system_usec;
		cpu.nr_periods = st->cpu.nr_periods;
		cpu.nr_throttled = st->cpu.nr_throttled;
		cpu.throttled_usec = st->cpu.throttled_usec;
		m.cpu = &cpu;
	}
	if (st->has_memory) {
		const typeof(st->memory) *sm = &st->memory;

		mem.anon = sm->anon;
		mem.file = sm->file;
		mem.kernel_stack = sm->kernel_stack;
		mem.slab = sm->slab;
		mem.sock = sm->sock;
		mem.shmem = sm->shmem;
		mem.file_mapped = sm->file_mapped;
		mem.file_dirty = sm->file_dirty;
		mem.file_writeback = sm->file_writeback;
		mem.anon_thp = sm->anon_thp;
		mem.inactive_anon = sm->inactive_anon;
		mem.active_anon = sm->active_anon;
		mem.inactive_file = sm->inactive_file;
		mem.active_file = sm->active_file;
		mem.unevictable = sm->unevictable;
		mem.slab_reclaimable = sm->slab_reclaimable;
		mem.slab_unreclaimable = sm->slab_unreclaimable;
		mem.pgfault = sm->pgfault;
		mem.pgmajfault = sm->pgmajfault;
		mem.workingset_refault = sm->workingset_refault;
		mem.workingset_activate = sm->workingset_activate;
		mem.workingset_nodereclaim = sm->workingset_nodereclaim;
		mem.pgrefill = sm->pgrefill;
		mem.pgscan = sm->pgscan;
		mem.pgsteal = sm->pgsteal;
		mem.pgactivate = sm->pgactivate;
		mem.pgdeactivate = sm->pgdeactivate;
		mem.pglazyfree = sm->pglazyfree;
		mem.pglazyfreed = sm->pglazyfreed;
		mem.thp_fault_alloc = sm->thp_fault_alloc;
		mem.thp_collapse_alloc = sm->thp_collapse_alloc;
		mem.usage = sm->usage;
		mem.usage_limit = sm->usage_limit;
		mem.swap_usage = sm->swap_usage;
		mem.swap_limit = sm->swap_limit;
		mem.max_usage = sm->max_usage;
		mem.swap_max_usage = sm->swap_max_usage;
		m.memory = &mem;
	}
	if (st->has_memory_events) {
		ev.low = st->memory_events.low;
		ev.high = st->memory_events.high;
		ev.max = st->memory_events.max;
		ev.oom = st->memory_events.oom;
		ev.oom_kill = st->memory_events.oom_kill;
		m.memory_events = &ev;
	}
	if (st->has_io) {
		Io__Containerd__Cgroups__V2__IOEntry *e = arena_alloc(&a, st->n_io * sizeof(*e));
		Io__Containerd__Cgroups__V2__IOEntry **ep = arena_alloc(&a, st->n_io * sizeof(*ep));

		for (size_t i = 0; i < st->n_io; i++) {
			io__containerd__cgroups__v2__ioentry__init(&e[i]);
			e[i].major = st->io[i].major;
			e[i].minor = st->io[i].minor;
			e[i].rbytes = st->io[i].rbytes;
			e[i].wbytes = st->io[i].wbytes;
			e[i].rios = st->io[i].rios;
			e[i].wios = st->io[i].wios;
			ep[i] = &e[i];
		}
		io.n_usage = st->n_io;
		io.usage = ep;
		m.io = &io;
	}
	if (st->n_hugetlb) {
		Io__Containerd__Cgroups__V2__HugeTlbStat *h =
		    arena_alloc(&a, st->n_hugetlb * sizeof(*h));
		Io__Containerd__Cgroups__V2__HugeTlbStat **hp =
		    arena_alloc(&a, st->n_hugetlb * sizeof(*hp));

		for (size_t i = 0; i < st->n_hugetlb; i++) {
			io__containerd__cgroups__v2__huge_tlb_stat__init(&h[i]);
			h[i].current = st->hugetlb[i].current;
			h[i].max = st->hugetlb[i].max;
			h[i].pagesize = st->hugetlb[i].pagesize;
			hp[i] = &h[i];
		}
		m.n_hugetlb = st->n_hugetlb;
		m.hugetlb = hp;
	}
	any = shim_any_pack("io.containerd.cgroups.v2.Metrics", &m.base);
	arena_free(&a);
	return any;
}

void shim_h_stats(struct ttrpc_call *call, void *ud)
{
	struct shim *s = ud;
	Containerd__Task__V2__StatsResponse resp = CONTAINERD__TASK__V2__STATS_RESPONSE__INIT;
	_cleanup_err_ struct wren_err *err = NULL;
	struct rt_cgroup_stats st;
	const struct rt_cgroup *cg;
	struct shim_container *c;
	UNPACK(Containerd__Task__V2__StatsRequest, containerd__task__v2__stats_request, call, req);

	c = find_or_reply(s, call, req->id);
	if (!c)
		return;
	cg = rt_container_cgroup_handle(c->rt);
	if (!cg) {
		ttrpc_call_reply_error(call, TTRPC_NOT_FOUND, "cgroup does not exist: not found");
		return;
	}
	if (rt_cgroup_stats(cg, &st, &err) < 0) {
		if (err->code == WREN_E_NOT_FOUND)
			ttrpc_call_reply_error(call, TTRPC_NOT_FOUND,
					       "cgroup does not exist: not found");
		else
			shim_reply_err(call, err);
		return;
	}
	resp.stats = st.mode == RT_CGROUP_V2 ? metrics_v2(&st.v2) : metrics_v1(&st.v1);
	shim_reply(call, &resp.base);
	shim_any_free(resp.stats);
	rt_cgroup_stats_clear(&st);
}

/* ---- OOM --------------------------------------------------------------------------------- */

static void oom_drain(struct shim *s, struct shim_container *c)
{
	_cleanup_err_ struct wren_err *err = NULL;
	uint64_t n = 0;

	if (!c->oom)
		return;
	if (rt_oom_watch_read(c->oom, &n, &err) < 0) {
		log_warn("oom watch of %s: %s", c->id, err->msg);
		return;
	}
	if (n > 0) {
		log_info("%s: OOM in its cgroup (%llu event%s)", c->id, (unsigned long long)n,
			 n == 1 ? "" : "s");
		publish_container_event(s, "/tasks/oom", "containerd.events.TaskOOM", c);
	}
}

static void on_oom(struct ttrpc_source *src, uint32_t events)
{
	struct shim_container *c = ttrpc_container_of(src, struct shim_container, oom_src);

	oom_drain(c->shim, c);
}

void shim_oom_watch(struct shim *s, struct shim_container *c)
{
	_cleanup_err_ struct wren_err *err = NULL;
	const struct rt_cgroup *cg = rt_container_cgroup_handle(c->rt);

	if (c->oom || !cg)
		return;
	if (rt_oom_watch_open(cg, &c->oom, &err) < 0) {
		log_warn("%s: no OOM events: %s", c->id, err->msg);
		c->oom = NULL;
		return;
	}
	c->oom_src.fd = rt_oom_watch_fd(c->oom);
	c->oom_src.cb = on_oom;
	if (ttrpc_loop_add(s->loop, &c->oom_src, EPOLLIN) < 0) {
		log_warn("%s: no OOM events: watch fd: %s", c->id, strerror(errno));
		rt_oom_watch_free(c->oom);
		c->oom = NULL;
	}
}

void shim_oom_unwatch(struct shim *s, struct shim_container *c)
{
	if (!c->oom)
		return;
	ttrpc_loop_del(s->loop, &c->oom_src);
	rt_oom_watch_free(c->oom);
	c->oom = NULL;
}

void shim_cgroup_init_exited(struct shim *s, struct shim_container *c, bool was_paused)
{
	oom_drain(s, c);
	shim_oom_unwatch(s, c);
	if (was_paused) {
		_cleanup_err_ struct wren_err *err = NULL;

		if (rt_container_freeze(c->rt, false, &err) < 0)
			log_error("resume %s after its init exited while paused: %s", c->id,
				  err->msg);
	}
}
