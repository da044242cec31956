/* The task API (containerd.task.v2.Task, also served as containerd.task.v3.Task): protobuf in,
 * calls on the process table and runtime/, protobuf out. Behaviour follows
 * containerd-shim-runc-v2 (shim-protocol.md §4.3); protobuf structs stop here. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containerd/events/task_events.pb-c.h"
#include "containerd/runc/options/oci.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "runtime/util.h"
#include "shim/any.h"
#include "shim/cgroup_ops.h"
#include "shim/checkpoint.h"
#include "shim/events.h"
#include "shim/log.h"
#include "shim/reply.h"
#include "shim/task.h"

/* Unpack the request or answer INVALID_ARGUMENT; `req` is freed at scope exit. */
#define DECODE(T, fn, call, req)                                                                   \
	size_t _len_##req;                                                                         \
	const uint8_t *_buf_##req = ttrpc_call_payload(call, &_len_##req);                         \
	T *req __attribute__((cleanup(fn##_freep))) = fn##__unpack(NULL, _len_##req, _buf_##req);  \
	if (!req) {                                                                                \
		ttrpc_call_reply_error(call, TTRPC_INVALID_ARGUMENT, "invalid %s request",         \
				       ttrpc_call_method(call));                                   \
		return;                                                                            \
	}

#define FREEP(T, fn)                                                                               \
	static inline void fn##_freep(T **p)                                                       \
	{                                                                                          \
		if (*p)                                                                            \
			fn##__free_unpacked(*p, NULL);                                             \
	}
FREEP(Containerd__Task__V2__CreateTaskRequest, containerd__task__v2__create_task_request)
FREEP(Containerd__Task__V2__StartRequest, containerd__task__v2__start_request)
FREEP(Containerd__Task__V2__StateRequest, containerd__task__v2__state_request)
FREEP(Containerd__Task__V2__WaitRequest, containerd__task__v2__wait_request)
FREEP(Containerd__Task__V2__KillRequest, containerd__task__v2__kill_request)
FREEP(Containerd__Task__V2__DeleteRequest, containerd__task__v2__delete_request)
FREEP(Containerd__Task__V2__PidsRequest, containerd__task__v2__pids_request)
FREEP(Containerd__Task__V2__ConnectRequest, containerd__task__v2__connect_request)
FREEP(Containerd__Task__V2__ShutdownRequest, containerd__task__v2__shutdown_request)
FREEP(Containerd__Task__V2__CloseIORequest, containerd__task__v2__close_iorequest)
FREEP(Containerd__Task__V2__ExecProcessRequest, containerd__task__v2__exec_process_request)
FREEP(Containerd__Task__V2__ResizePtyRequest, containerd__task__v2__resize_pty_request)
FREEP(Containerd__Task__V2__CheckpointTaskRequest, containerd__task__v2__checkpoint_task_request)
FREEP(Containerd__Runc__V1__CheckpointOptions, containerd__runc__v1__checkpoint_options)

static struct shim *shim_of(void *ud)
{
	return ud;
}

/* Lookup errors with containerd's wording (the suffix is what errdefs matches on). */
static struct shim_container *find_or_reply(struct shim *s, struct ttrpc_call *call, const char *id)
{
	struct shim_container *c = shim_task_find(s, id);

	if (!c)
		ttrpc_call_reply_error(call, TTRPC_NOT_FOUND, "container not created: not found");
	return c;
}

static struct shim_proc *proc_or_reply(struct shim *s, struct ttrpc_call *call, const char *id,
				       const char *exec_id)
{
	struct shim_container *c = find_or_reply(s, call, id);
	struct shim_proc *p;

	if (!c)
		return NULL;
	p = shim_task_proc(c, exec_id);
	if (!p)
		ttrpc_call_reply_error(call, TTRPC_NOT_FOUND,
				       "process does not exist %s: not found", exec_id);
	return p;
}

static void child_log(void *ud, enum rt_log_level level, const char *msg)
{
	static const enum shim_log_level map[] = {SHIM_LOG_ERROR, SHIM_LOG_WARN, SHIM_LOG_INFO,
						  SHIM_LOG_DEBUG};
	struct shim_proc *p = ud;

	shim_log(map[level], "%s: %s", p->id, msg);
}

/* The TaskCreate event is built now, from the request, and sent once the init is ready. */
static void keep_create_event(struct shim_container *c,
			      const Containerd__Task__V2__CreateTaskRequest *req)
{
	Containerd__Events__TaskCreate ev = CONTAINERD__EVENTS__TASK_CREATE__INIT;
	Containerd__Events__TaskIO io = CONTAINERD__EVENTS__TASK_IO__INIT;

	ev.container_id = req->id;
	ev.bundle = req->bundle;
	ev.n_rootfs = req->n_rootfs;
	ev.rootfs = req->rootfs;
	io.stdin = req->stdin;
	io.stdout = req->stdout;
	io.stderr = req->stderr;
	io.terminal = req->terminal;
	ev.io = &io;
	ev.checkpoint = req->checkpoint;
	c->create_event_len = containerd__events__task_create__get_packed_size(&ev);
	c->create_event = xmalloc(c->create_event_len);
	containerd__events__task_create__pack(&ev, c->create_event);
}

static int mount_rootfs(struct shim_container *c,
			const Containerd__Task__V2__CreateTaskRequest *req, struct wren_err **err)
{
	_cleanup_free_ char *dir = xasprintf("%s/rootfs", c->bundle);
	_cleanup_free_ struct rt_mount *m = NULL;

	if (req->n_rootfs == 0)
		return 0;
	if (mkdir(dir, 0711) < 0 && errno != EEXIST)
		return wren_err_errno(err, errno, "mkdir %s", dir);
	m = xzalloc(sizeof(*m) * req->n_rootfs);
	for (size_t i = 0; i < req->n_rootfs; i++) {
		m[i].type = req->rootfs[i]->type;
		m[i].source = req->rootfs[i]->source;
		m[i].target = req->rootfs[i]->target;
		m[i].options = (const char *const *)req->rootfs[i]->options;
		m[i].n_options = req->rootfs[i]->n_options;
	}
	if (rt_rootfs_mount(dir, m, req->n_rootfs, err) < 0)
		return -1;
	c->rootfs_mounted = true;
	return 0;
}

/* The rootfs leaves the daemon's mount namespace where the spec allows it: the init attaches it in
 * its own (rt_rootfs_detach). Where it cannot (an old kernel), it stays mounted here, as runc
 * has it. */
static void detach_rootfs(struct shim_container *c)
{
	_cleanup_err_ struct wren_err *err = NULL;
	_cleanup_free_ char *dir = xasprintf("%s/rootfs", c->bundle);

	if (!c->rootfs_mounted || !rt_rootfs_detachable(c->spec, dir))
		return;
	c->rootfs_tree = rt_rootfs_detach(dir, &err);
	if (c->rootfs_tree < 0) {
		log_debug("rootfs of %s stays mounted in the shim's namespace: %s", c->id,
			  err->msg);
		return;
	}
	c->rootfs_mounted = false;
}

static void options_of(const Google__Protobuf__Any *any, struct rt_create_opts *o)
{
	Containerd__Runc__V1__Options *ro;

	if (!shim_any_is(any, "containerd.runc.v1.Options"))
		return; /* absent, runtimeoptions.v1.Options, or unknown: nothing for us */
	ro = containerd__runc__v1__options__unpack(NULL, any->value.len, any->value.data);
	if (!ro)
		return;
	o->no_pivot_root = ro->no_pivot_root;
	o->no_new_keyring = ro->no_new_keyring;
	o->systemd_cgroup = ro->systemd_cgroup;
	containerd__runc__v1__options__free_unpacked(ro, NULL);
}

/* A host id for a container id: the terminal belongs to the process's user. -1 (fchown leaves it
 * alone) for an id that the container's user namespace does not map. */
static uint32_t host_id(const struct rt_id_map *m, size_t n, uint32_t id)
{
	if (n == 0)
		return id;
	for (size_t i = 0; i < n; i++)
		if (id >= m[i].container_id && id - m[i].container_id < m[i].size)
			return m[i].host_id + (id - m[i].container_id);
	return (uint32_t)-1;
}

static uint16_t clamp16(uint32_t v)
{
	return v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
}

static void io_config(struct shim *s, const struct rt_spec *spec, const struct rt_process *proc,
		      const char *id, bool terminal, struct shim_io_config *cfg)
{
	cfg->terminal = terminal;
	if (proc) {
		cfg->uid = host_id(spec->uid_mappings, spec->n_uid_mappings, proc->uid);
		cfg->rows = clamp16(proc->console_height);
		cfg->cols = clamp16(proc->console_width);
	}
	cfg->id = id;
	cfg->ns = s->flags.namespace;
	cfg->loop = s->loop;
}

/* Create's second half, once the stdio is ready (a binary:// logger may take a while). */
static void create_spawn(struct shim *s, struct shim_container *c, struct ttrpc_call *call)
{
	_cleanup_err_ struct wren_err *err = NULL;
	struct rt_create_opts o = {0};

	o.id = c->id;
	o.bundle = c->bundle;
	o.spec = c->spec;
	for (int i = 0; i < 3; i++)
		o.stdio[i] = c->init.io.child[i];
	o.no_pivot_root = c->no_pivot_root;
	o.no_new_keyring = c->no_new_keyring;
	o.systemd_cgroup = c->systemd_cgroup;
	o.log = child_log;
	o.log_ud = &c->init;
	o.rootfs_tree = c->rootfs_tree >= 0 ? c->rootfs_tree : 0;
	int r = rt_container_create(&o, &c->rt, &err);
	closep(&c->rootfs_tree); /* the init has its own copy, or is gone */
	if (r < 0) {
		c->rt = NULL;
		shim_task_remove(s, c);
		shim_reply_err(call, err);
		return;
	}
	c->init.pid = rt_container_pid(c->rt);
	shim_io_release_child(&c->init.io); /* the child has its own copies now */
	shim_task_persist(c);
	c->init.pending = call;
	shim_proc_watch_sync(s, &c->init, rt_container_sync_fd(c->rt));
}

static void on_init_io_ready(void *ud, const struct wren_err *err)
{
	struct shim_container *c = ud;
	struct shim *s = c->shim;
	struct ttrpc_call *call = steal_ptr(&c->init.pending);

	if (err) {
		shim_task_remove(s, c);
		shim_reply_err(call, err);
		return;
	}
	create_spawn(s, c, call);
}

static void h_create(struct ttrpc_call *call, void *ud)
{
	struct shim *s = shim_of(ud);
	_cleanup_err_ struct wren_err *err = NULL;
	struct rt_create_opts o = {0};
	struct shim_io_config io = {0};
	struct shim_container *c;
	DECODE(Containerd__Task__V2__CreateTaskRequest, containerd__task__v2__create_task_request,
	       call, req);

	if (!*req->id || !*req->bundle) {
		ttrpc_call_reply_error(call, TTRPC_INVALID_ARGUMENT, "id and bundle are required");
		return;
	}
	if (shim_task_find(s, req->id)) {
		ttrpc_call_reply_error(call, TTRPC_ALREADY_EXISTS, "id %s: already exists",
				       req->id);
		return;
	}
	if (*req->checkpoint) {
		/* Checkpoint dumps with criu; restoring those images is not written yet */
		ttrpc_call_reply_error(call, TTRPC_FAILED_PRECONDITION,
				       "restore from checkpoint is not supported by wren (only "
				       "Checkpoint is): create the task without a checkpoint");
		return;
	}

	c = xzalloc(sizeof(*c));
	c->shim = s;
	c->id = xstrdup(req->id);
	c->bundle = xstrdup(req->bundle);
	c->init.c = c;
	c->init.is_init = true;
	c->init.id = xstrdup(req->id);
	c->init.status = PROC_CREATING;
	c->init.io = (struct shim_io)SHIM_IO_INIT;
	c->init.stdin_path = xstrdup(req->stdin);
	c->init.stdout_path = xstrdup(req->stdout);
	c->init.stderr_path = xstrdup(req->stderr);
	c->init.terminal = req->terminal;
	c->rootfs_tree = -1;
	c->next = s->containers;
	s->containers = c;

	if (mount_rootfs(c, req, &err) < 0)
		goto fail;
	if (rt_spec_load(c->bundle, &c->spec, &err) < 0)
		goto fail;
	detach_rootfs(c);
	io_config(s, c->spec, c->spec->process, c->id, req->terminal, &io);
	io.stdin_path = req->stdin;
	io.stdout_path = req->stdout;
	io.stderr_path = req->stderr;
	if (shim_io_open(&c->init.io, &io, &err) < 0)
		goto fail;
	options_of(req->options, &o);
	c->no_pivot_root = o.no_pivot_root;
	c->no_new_keyring = o.no_new_keyring;
	c->systemd_cgroup = o.systemd_cgroup;
	keep_create_event(c, req);
	if (!shim_io_when_ready(&c->init.io, on_init_io_ready, c)) {
		c->init.pending = call; /* answered by on_init_io_ready */
		return;
	}
	create_spawn(s, c, call);
	return;
fail:
	shim_task_remove(s, c);
	shim_reply_err(call, err);
}

static void h_start(struct ttrpc_call *call, void *ud)
{
	struct shim *s = shim_of(ud);
	_cleanup_err_ struct wren_err *err = NULL;
	struct shim_proc *p;
	DECODE(Containerd__Task__V2__StartRequest, containerd__task__v2__start_request, call, req);

	p = proc_or_reply(s, call, req->id, req->exec_id);
	if (!p)
		return;
	if (p->status != PROC_CREATED) {
		ttrpc_call_reply_error(call, TTRPC_UNKNOWN, "cannot start a %s process",
				       p->status == PROC_STOPPED  ? "stopped"
				       : p->status == PROC_PAUSED ? "paused"
								  : "running");
		return;
	}
	if (p->is_init) {
		if (rt_container_start(p->c->rt, &err) < 0) {
			shim_reply_err(call, err);
			return;
		}
		shim_oom_watch(s, p->c); /* from Start on, as runc-v2 */
		p->status = PROC_STARTING;
		p->pending = call;
		shim_proc_watch_sync(s, p, rt_container_sync_fd(p->c->rt));
		return;
	}
	if (p->c->init.status == PROC_PAUSED || p->c->init.status == PROC_PAUSING) {
		ttrpc_call_reply_error(call, TTRPC_UNKNOWN, "cannot exec in a paused container");
		return;
	}
	if (p->c->init.reaped ||
	    (p->c->init.status != PROC_RUNNING && p->c->init.status != PROC_CREATED)) {
		ttrpc_call_reply_error(call, TTRPC_UNKNOWN, "container %s is not running",
				       p->c->id);
		return;
	}
	if (p->rt_exec) { /* a Start that failed: this process is over */
		ttrpc_call_reply_error(call, TTRPC_UNKNOWN, "cannot start a stopped process");
		return;
	}
	if (shim_io_open_stdin(&p->io, &err) < 0) {
		shim_reply_err(call, err);
		return;
	}
	struct rt_exec_opts eo = {
	    .container = p->c->rt, .process = p->spec, .log = child_log, .log_ud = p};
	for (int i = 0; i < 3; i++)
		eo.stdio[i] = p->io.child[i];
	if (rt_exec_start(&eo, &p->rt_exec, &err) < 0) {
		p->rt_exec = NULL;
		shim_reply_err(call, err);
		return;
	}
	p->pid = rt_exec_pid(p->rt_exec);
	shim_io_release_child(&p->io);
	p->status = PROC_STARTING;
	p->pending = call;
	shim_proc_watch_sync(s, p, rt_exec_sync_fd(p->rt_exec));
}

static Containerd__V1__Types__Status status_of(const struct shim_proc *p)
{
	/* A paused container's execs are paused too (runc-v2's execProcess.Status). */
	if (p->c->init.status == PROC_PAUSED)
		return CONTAINERD__V1__TYPES__STATUS__PAUSED;
	if (p->c->init.status == PROC_PAUSING)
		return CONTAINERD__V1__TYPES__STATUS__PAUSING;
	switch (p->status) {
	case PROC_CREATING:
	case PROC_CREATED:
		return CONTAINERD__V1__TYPES__STATUS__CREATED;
	case PROC_STARTING:
	case PROC_RUNNING:
		return CONTAINERD__V1__TYPES__STATUS__RUNNING;
	case PROC_STOPPED:
		return CONTAINERD__V1__TYPES__STATUS__STOPPED;
	case PROC_PAUSING:
		return CONTAINERD__V1__TYPES__STATUS__PAUSING;
	case PROC_PAUSED:
		return CONTAINERD__V1__TYPES__STATUS__PAUSED;
	}
	return CONTAINERD__V1__TYPES__STATUS__UNKNOWN;
}

static void h_state(struct ttrpc_call *call, void *ud)
{
	struct shim *s = shim_of(ud);
	Containerd__Task__V2__StateResponse resp = CONTAINERD__TASK__V2__STATE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts;
	struct shim_proc *p;
	DECODE(Containerd__Task__V2__StateRequest, containerd__task__v2__state_request, call, req);

	p = proc_or_reply(s, call, req->id, req->exec_id);
	if (!p)
		return;
	resp.id = p->id;
	resp.bundle = p->c->bundle;
	resp.pid = (uint32_t)p->pid;
	resp.status = status_of(p);
	resp.stdin = p->stdin_path;
	resp.stdout = p->stdout_path;
	resp.stderr = p->stderr_path;
	resp.terminal = p->terminal;
	resp.exit_status = p->exit_status;
	shim_timestamp(&ts, p->exited, &p->exited_at);
	resp.exited_at = &ts;
	shim_reply(call, &resp.base);
}

static void h_wait(struct ttrpc_call *call, void *ud)
{
	struct shim *s = shim_of(ud);
	struct shim_proc *p;
	DECODE(Containerd__Task__V2__WaitRequest, containerd__task__v2__wait_request, call, req);

	p = proc_or_reply(s, call, req->id, req->exec_id);
	if (!p)
		return;
	if (p->exited) {
		Containerd__Task__V2__WaitResponse resp = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
		Google__Protobuf__Timestamp ts;

		shim_timestamp(&ts, true, &p->exited_at);
		resp.exit_status = p->exit_status;
		resp.exited_at = &ts;
		shim_reply(call, &resp.base);
		return;
	}
	/* A deferred reply: answered by shim_proc_exited, maybe hours from now. */
	shim_proc_add_waiter(p, call);
}

static void h_kill(struct ttrpc_call *call, void *ud)
{
	struct shim *s = shim_of(ud);
	_cleanup_err_ struct wren_err *err = NULL;
	struct shim_proc *p;
	DECODE(Containerd__Task__V2__KillRequest, containerd__task__v2__kill_request, call, req);

	p = proc_or_reply(s, call, req->id, req->exec_id);
	if (!p)
		return;
	if (p->is_init) {
		if (p->reaped && !req->all) {
			ttrpc_call_reply_error(call, TTRPC_NOT_FOUND,
					       "process already finished: not found");
			return;
		}
		if (rt_container_kill(p->c->rt, (int)req->signal, req->all, &err) < 0) {
			if (p->reaped && req->all) {
				shim_reply_empty(call); /* nothing left to kill */
				return;
			}
			shim_reply_err(call, err);
			return;
		}
		shim_reply_empty(call);
		return;
	}
	if (p->status == PROC_CREATED) {
		ttrpc_call_reply_error(call, TTRPC_FAILED_PRECONDITION, "process not created");
		return;
	}
	/* never a reaped pid: it may belong to someone else by now */
	if (p->reaped || kill(p->pid, (int)req->signal) < 0) {
		ttrpc_call_reply_error(call, TTRPC_NOT_FOUND,
				       "process already finished: not found");
		return;
	}
	shim_reply_empty(call);
}

static void publish_delete(struct shim *s, const char *container_id, pid_t pid,
			   uint32_t exit_status, const struct timespec *at)
{
	Containerd__Events__TaskDelete ev = CONTAINERD__EVENTS__TASK_DELETE__INIT;
	Google__Protobuf__Timestamp ts;

	shim_timestamp(&ts, true, at);
	ev.container_id = (char *)container_id;
	ev.pid = (uint32_t)pid;
	ev.exit_status = exit_status;
	ev.exited_at = &ts;
	shim_publish(s->events, "/tasks/delete", "containerd.events.TaskDelete", &ev.base);
}

static void h_delete(struct ttrpc_call *call, void *ud)
{
	struct shim *s = shim_of(ud);
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts;
	_cleanup_free_ char *id = NULL;
	struct shim_container *c;
	struct shim_proc *p;
	struct timespec at;
	uint32_t status;
	pid_t pid;
	DECODE(Containerd__Task__V2__DeleteRequest, containerd__task__v2__delete_request, call,
	       req);

	p = proc_or_reply(s, call, req->id, req->exec_id);
	if (!p)
		return;
	c = p->c;
	if (p->status == PROC_RUNNING || p->status == PROC_STARTING || p->status == PROC_CREATING) {
		ttrpc_call_reply_error(call, TTRPC_UNKNOWN, "cannot delete a running process");
		return;
	}
	if (p->status == PROC_PAUSED || p->status == PROC_PAUSING) {
		ttrpc_call_reply_error(call, TTRPC_UNKNOWN, "cannot delete a paused process");
		return;
	}
	/* An init (or exec) that never started dies now, reported as killed. */
	if (!p->exited)
		shim_proc_reap_now(p);
	pid = p->pid;
	status = p->exit_status;
	at = p->exited_at;
	if (!p->is_init) {
		/* No event for execs (runc-v2 sends none); the exec id can be reused from now on. */
		shim_task_remove_exec(s, p);
	} else {
		_cleanup_free_ char *bundle = xstrdup(c->bundle);

		id = xstrdup(c->id);
		shim_task_delete(s, c); /* cgroup, rootfs mounts, stdio: everything goes */
		shim_daemon_leave_bundle(s, bundle);
		publish_delete(s, id, pid, status, &at);
	}
	resp.pid = (uint32_t)pid;
	resp.exit_status = status;
	shim_timestamp(&ts, true, &at);
	resp.exited_at = &ts;
	shim_reply(call, &resp.base);
}

static void h_pids(struct ttrpc_call *call, void *ud)
{
	struct shim *s = shim_of(ud);
	Containerd__Task__V2__PidsResponse resp = CONTAINERD__TASK__V2__PIDS_RESPONSE__INIT;
	_cleanup_err_ struct wren_err *err = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_free_ Containerd__V1__Types__ProcessInfo *infos = NULL;
	_cleanup_free_ Containerd__V1__Types__ProcessInfo **ptrs = NULL;
	Google__Protobuf__Any **details = NULL;
	struct shim_container *c;
	size_t n = 0;
	DECODE(Containerd__Task__V2__PidsRequest, containerd__task__v2__pids_request, call, req);

	c = find_or_reply(s, call, req->id);
	if (!c)
		return;
	if (rt_container_pids(c->rt, &pids, &n, &err) < 0) {
		shim_reply_err(call, err);
		return;
	}
	infos = xzalloc(sizeof(*infos) * (n ? n : 1));
	ptrs = xzalloc(sizeof(*ptrs) * (n ? n : 1));
	details = xzalloc(sizeof(*details) * (n ? n : 1));
	for (size_t i = 0; i < n; i++) {
		containerd__v1__types__process_info__init(&infos[i]);
		infos[i].pid = (uint32_t)pids[i];
		for (struct shim_proc *e = c->execs; e; e = e->next) {
			if (e->pid == pids[i] && !e->reaped) {
				Containerd__Runc__V1__ProcessDetails d =
				    CONTAINERD__RUNC__V1__PROCESS_DETAILS__INIT;
				d.exec_id = e->id;
				details[i] =
				    shim_any_pack("containerd.runc.v1.ProcessDetails", &d.base);
				infos[i].info = details[i];
			}
		}
		ptrs[i] = &infos[i];
	}
	resp.n_processes = n;
	resp.processes = ptrs;
	shim_reply(call, &resp.base);
	for (size_t i = 0; i < n; i++)
		shim_any_free(details[i]);
	free(details);
}

static void h_connect(struct ttrpc_call *call, void *ud)
{
	struct shim *s = shim_of(ud);
	Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
	struct shim_container *c;
	DECODE(Containerd__Task__V2__ConnectRequest, containerd__task__v2__connect_request, call,
	       req);

	c = shim_task_find(s, req->id);
	resp.shim_pid = (uint32_t)getpid();
	resp.task_pid = c ? (uint32_t)c->init.pid : 0;
	shim_reply(call, &resp.base);
}

static void h_shutdown(struct ttrpc_call *call, void *ud)
{
	struct shim *s = shim_of(ud);
	DECODE(Containerd__Task__V2__ShutdownRequest, containerd__task__v2__shutdown_request, call,
	       req);

	/* A no-op while any container of this shim is still registered (grouped pods). */
	shim_reply_empty(call);
	if (!s->containers)
		shim_begin_exit(s);
}

static void h_close_io(struct ttrpc_call *call, void *ud)
{
	struct shim *s = shim_of(ud);
	struct shim_proc *p;
	DECODE(Containerd__Task__V2__CloseIORequest, containerd__task__v2__close_iorequest, call,
	       req);

	p = proc_or_reply(s, call, req->id, req->exec_id);
	if (!p)
		return;
	if (req->stdin)
		shim_io_close_stdin(&p->io);
	shim_reply_empty(call);
}

#define PROCESS_SPEC_URL "types.containerd.io/opencontainers/runtime-spec/1/Process"

static void exec_added(struct shim *s, struct shim_proc *p, struct ttrpc_call *call)
{
	Containerd__Events__TaskExecAdded ev = CONTAINERD__EVENTS__TASK_EXEC_ADDED__INIT;

	ev.container_id = p->c->id;
	ev.exec_id = p->id;
	shim_publish(s->events, "/tasks/exec-added", "containerd.events.TaskExecAdded", &ev.base);
	shim_reply_empty(call);
}

/* The exec's binary:// logger is ready (or failed: the exec is forgotten, as if never asked). */
static void on_exec_io_ready(void *ud, const struct wren_err *err)
{
	struct shim_proc *p = ud;
	struct shim *s = p->c->shim;
	struct ttrpc_call *call = steal_ptr(&p->pending);

	if (err) {
		shim_task_remove_exec(s, p);
		shim_reply_err(call, err);
		return;
	}
	exec_added(s, p, call);
}

static void h_exec(struct ttrpc_call *call, void *ud)
{
	struct shim *s = shim_of(ud);
	_cleanup_err_ struct wren_err *err = NULL;
	struct shim_io_config io = {0};
	struct shim_container *c;
	struct shim_proc *p;
	DECODE(Containerd__Task__V2__ExecProcessRequest, containerd__task__v2__exec_process_request,
	       call, req);

	c = find_or_reply(s, call, req->id);
	if (!c)
		return;
	if (!*req->exec_id) {
		ttrpc_call_reply_error(call, TTRPC_INVALID_ARGUMENT, "exec id is required");
		return;
	}
	if (shim_task_proc(c, req->exec_id)) {
		ttrpc_call_reply_error(call, TTRPC_ALREADY_EXISTS, "id %s: already exists",
				       req->exec_id);
		return;
	}
	/* runc-v2's wording; an init whose exit waits for its execs' counts as stopped */
	if (c->init.reaped || c->init.status == PROC_STOPPED) {
		ttrpc_call_reply_error(call, TTRPC_UNKNOWN, "cannot exec in a stopped state");
		return;
	}
	if (c->init.status != PROC_RUNNING && c->init.status != PROC_CREATED) {
		ttrpc_call_reply_error(call, TTRPC_UNKNOWN, "cannot exec in a %s state",
				       c->init.status == PROC_CREATING	 ? "creating"
				       : c->init.status == PROC_STARTING ? "starting"
									 : "paused");
		return;
	}
	if (!req->spec ||
	    strcmp(req->spec->type_url ? req->spec->type_url : "", PROCESS_SPEC_URL)) {
		ttrpc_call_reply_error(call, TTRPC_INVALID_ARGUMENT, "exec spec must be a %s",
				       PROCESS_SPEC_URL);
		return;
	}
	p = xzalloc(sizeof(*p));
	p->c = c;
	p->id = xstrdup(req->exec_id);
	p->status = PROC_CREATED;
	p->io = (struct shim_io)SHIM_IO_INIT;
	p->stdin_path = xstrdup(req->stdin);
	p->stdout_path = xstrdup(req->stdout);
	p->stderr_path = xstrdup(req->stderr);
	p->terminal = req->terminal;
	if (rt_process_parse((const char *)req->spec->value.data, req->spec->value.len, &p->spec,
			     &err) == 0) {
		p->spec->terminal = req->terminal; /* the request decides, as in runc-v2 */
		io_config(s, c->spec, p->spec, p->id, req->terminal, &io);
		io.devpts_of = c->init.pid; /* created or running, not reaped (checked above) */
		io.defer_stdin = true;
		io.stdin_path = req->stdin;
		io.stdout_path = req->stdout;
		io.stderr_path = req->stderr;
	}
	if (!p->spec || shim_io_open(&p->io, &io, &err) < 0) {
		wren_err_wrap(&err, "exec %s", req->exec_id);
		shim_io_close(&p->io);
		if (p->spec)
			rt_process_free(p->spec);
		free(p->id);
		free(p->stdin_path);
		free(p->stdout_path);
		free(p->stderr_path);
		free(p);
		shim_reply_err(call, err);
		return;
	}
	p->next = c->execs;
	c->execs = p;
	if (!shim_io_when_ready(&p->io, on_exec_io_ready, p)) {
		p->pending = call; /* answered by on_exec_io_ready */
		return;
	}
	exec_added(s, p, call);
}

/* ResizePty: width is columns, height rows (runc-v2 passes them to TIOCSWINSZ the same way). */
static void h_resize_pty(struct ttrpc_call *call, void *ud)
{
	struct shim *s = shim_of(ud);
	_cleanup_err_ struct wren_err *err = NULL;
	struct shim_proc *p;
	DECODE(Containerd__Task__V2__ResizePtyRequest, containerd__task__v2__resize_pty_request,
	       call, req);

	p = proc_or_reply(s, call, req->id, req->exec_id);
	if (!p)
		return;
	/* An init that just exited is let off (its terminal may still be draining): ctr resizes
	 * right after Start, and a quick `ctr run -t … true` would print an error. */
	if (p->status == PROC_STOPPED && !p->is_init) {
		ttrpc_call_reply_error(call, TTRPC_UNKNOWN, "cannot resize a stopped container");
		return;
	}
	if (shim_io_resize(&p->io, clamp16(req->height), clamp16(req->width), &err) < 0) {
		shim_reply_err(call, err);
		return;
	}
	shim_reply_empty(call);
}

/* Checkpoint: criu dumps the init's tree into req->path (shim/checkpoint.c); the reply waits for
 * criu. containerd pauses the task first, so a paused container is the usual case. Options are
 * runc-v2's (containerd.runc.v1.CheckpointOptions); ctr sends none for a runtime it does not know
 * as runc, which means: leave it running, criu's defaults. */
static void h_checkpoint(struct ttrpc_call *call, void *ud)
{
	struct shim *s = shim_of(ud);
	_cleanup_err_ struct wren_err *err = NULL;
	struct shim_checkpoint_opts o = {0};
	struct shim_container *c;
	Containerd__Runc__V1__CheckpointOptions *ro
	    __attribute__((cleanup(containerd__runc__v1__checkpoint_options_freep))) = NULL;
	int64_t tmo = ttrpc_call_timeout_nano(call);
	DECODE(Containerd__Task__V2__CheckpointTaskRequest,
	       containerd__task__v2__checkpoint_task_request, call, req);

	c = find_or_reply(s, call, req->id);
	if (!c)
		return;
	if (c->init.reaped || (c->init.status != PROC_RUNNING && c->init.status != PROC_PAUSED)) {
		ttrpc_call_reply_error(call, TTRPC_FAILED_PRECONDITION,
				       "cannot checkpoint container %s: it is not running", c->id);
		return;
	}
	if (shim_any_is(req->options, "containerd.runc.v1.CheckpointOptions")) {
		ro = containerd__runc__v1__checkpoint_options__unpack(NULL, req->options->value.len,
								      req->options->value.data);
		if (!ro) {
			ttrpc_call_reply_error(call, TTRPC_INVALID_ARGUMENT,
					       "invalid containerd.runc.v1.CheckpointOptions");
			return;
		}
		o.exit = ro->exit;
		o.open_tcp = ro->open_tcp;
		o.external_unix_sockets = ro->external_unix_sockets;
		o.terminal = ro->terminal;
		o.file_locks = ro->file_locks;
		o.empty_namespaces = ro->empty_namespaces;
		o.n_empty_namespaces = ro->n_empty_namespaces;
		o.cgroups_mode = ro->cgroups_mode;
		o.work_path = ro->work_path;
	} else if (req->options && req->options->type_url && *req->options->type_url) {
		ttrpc_call_reply_error(call, TTRPC_INVALID_ARGUMENT,
				       "checkpoint options of type %s are not understood",
				       req->options->type_url);
		return;
	}
	o.image_path = *req->path ? req->path : (ro && *ro->image_path ? ro->image_path : "");
	if (tmo > 0)
		o.timeout_ms = (uint64_t)tmo / 1000000 + 1;
	if (shim_checkpoint_start(c, &o, call, &err) < 0)
		shim_reply_err(call, err);
}

size_t shim_service_n_containers(const struct shim *s)
{
	size_t n = 0;

	for (struct shim_container *c = s->containers; c; c = c->next)
		n++;
	return n;
}

/* Methods not listed answer UNIMPLEMENTED (the server's default for an unknown method). */
void shim_service_register(struct shim *s)
{
	static const char *services[] = {"containerd.task.v2.Task", "containerd.task.v3.Task"};
	static const struct {
		const char *method;
		ttrpc_handler_fn fn;
	} methods[] = {
	    {"Create", h_create},
	    {"Start", h_start},
	    {"State", h_state},
	    {"Wait", h_wait},
	    {"Kill", h_kill},
	    {"Delete", h_delete},
	    {"Pids", h_pids},
	    {"Connect", h_connect},
	    {"Shutdown", h_shutdown},
	    {"CloseIO", h_close_io},
	    {"Exec", h_exec},
	    {"ResizePty", h_resize_pty},
	    {"Pause", shim_h_pause},
	    {"Resume", shim_h_resume},
	    {"Update", shim_h_update},
	    {"Stats", shim_h_stats},
	    {"Checkpoint", h_checkpoint},
	};

	for (size_t i = 0; i < 2; i++)
		for (size_t k = 0; k < sizeof(methods) / sizeof(methods[0]); k++)
			ttrpc_server_register(s->server, services[i], methods[k].method,
					      methods[k].fn, s);
}
