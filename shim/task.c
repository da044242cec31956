/* The process table: lookups, exits, the conversation with a child being set up, teardown. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containerd/events/task_events.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "runtime/util.h"
#include "shim/cgroup_ops.h"
#include "shim/checkpoint.h"
#include "shim/events.h"
#include "shim/log.h"
#include "shim/reply.h"
#include "shim/state.h"
#include "shim/task.h"

struct shim_container *shim_task_find(struct shim *s, const char *id)
{
	for (struct shim_container *c = s->containers; c; c = c->next)
		if (id && !strcmp(c->id, id))
			return c;
	return NULL;
}

struct shim_proc *shim_task_proc(struct shim_container *c, const char *exec_id)
{
	if (!exec_id || !*exec_id)
		return &c->init;
	for (struct shim_proc *p = c->execs; p; p = p->next)
		if (!strcmp(p->id, exec_id))
			return p;
	return NULL;
}

static void persist(struct shim_container *c, bool cleaned)
{
	_cleanup_err_ struct wren_err *err = NULL;
	struct shim_state st = {0};

	st.pid = c->init.pid;
	if (c->rt)
		snprintf(st.cgroup, sizeof(st.cgroup), "%s", rt_container_cgroup(c->rt));
	/* reaped, not only recorded: the delete action must know the status even if the daemon
	 * dies while the init's exit waits for its execs' */
	st.exited = c->init.reaped || c->init.exited;
	st.exit_status = c->init.exit_status;
	st.exited_sec = c->init.exited_at.tv_sec;
	st.exited_nsec = (int32_t)c->init.exited_at.tv_nsec;
	st.cleaned = cleaned;
	if (shim_state_write(c->bundle, &st, &c->state, &err) < 0)
		log_error("persist state of %s: %s", c->id, err->msg);
}

void shim_task_persist(struct shim_container *c)
{
	persist(c, false);
}

bool shim_task_has_live_execs(const struct shim_container *c)
{
	for (const struct shim_proc *e = c->execs; e; e = e->next)
		if (!e->exited && (e->status == PROC_STARTING || e->status == PROC_RUNNING))
			return true;
	return false;
}

static void publish_exit(struct shim *s, struct shim_proc *p)
{
	Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	Google__Protobuf__Timestamp ts;

	shim_timestamp(&ts, true, &p->exited_at);
	ev.container_id = p->c->id;
	ev.id = p->id; /* the container id for the init: CRI matches on it */
	ev.pid = (uint32_t)p->pid;
	ev.exit_status = p->exit_status;
	ev.exited_at = &ts;
	shim_publish(s->events, "/tasks/exit", "containerd.events.TaskExit", &ev.base);
}

/* The exit becomes visible: state, Waits, the event. Only a process that ran gets a
 * /tasks/exit (an exec whose Start failed does not, as with runc-v2). */
static void record_exit(struct shim *s, struct shim_proc *p)
{
	Containerd__Task__V2__WaitResponse resp = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts;
	bool paused = p->status == PROC_PAUSED || p->status == PROC_PAUSING;
	bool started =
	    p->status == PROC_RUNNING || paused || (p->is_init && p->status == PROC_CREATED);

	/* an OOM kill's /tasks/oom goes before the exit it caused */
	if (p->is_init)
		shim_cgroup_init_exited(s, p->c, paused);
	p->exited = true;
	p->status = PROC_STOPPED;
	shim_timestamp(&ts, true, &p->exited_at);
	resp.exit_status = p->exit_status;
	resp.exited_at = &ts;
	while (p->waiters) {
		struct proc_waiter *w = p->waiters;
		p->waiters = w->next;
		shim_reply(w->call, &resp.base);
		free(w);
	}
	if (started)
		publish_exit(s, p);
}

static void record_init_exit(struct shim *s, struct shim_container *c)
{
	if (c->init_exit_deferred) {
		c->init_exit_deferred = false;
		ttrpc_timer_cancel(s->loop, &c->init_exit_timer);
	}
	record_exit(s, &c->init);
}

#define INIT_EXIT_DEFER_MS 5000

static void on_init_exit_timer(struct ttrpc_timer *t)
{
	struct shim_container *c = ttrpc_container_of(t, struct shim_container, init_exit_timer);

	log_warn("execs of %s still running %d ms after its init exited", c->id,
		 INIT_EXIT_DEFER_MS);
	c->init_exit_deferred = false;
	record_exit(c->shim, &c->init);
}

/* The reaped process's output is read (or will not be): its exit goes out, an init's once its
 * execs' have. */
static void exit_after_output(struct shim *s, struct shim_proc *p)
{
	struct shim_container *c = p->c;

	if (!p->is_init) {
		record_exit(s, p);
		if (c->init_exit_deferred && !shim_task_has_live_execs(c))
			record_init_exit(s, c);
		return;
	}
	if (shim_task_has_live_execs(c)) {
		c->init_exit_deferred = true;
		c->init_exit_timer.cb = on_init_exit_timer;
		ttrpc_timer_arm(s->loop, &c->init_exit_timer, INIT_EXIT_DEFER_MS);
		return;
	}
	record_exit(s, p);
}

/* Output first. A containerd client that learns of an exit closes its ends of the process's
 * FIFOs before it deletes the process (1.6's Task.Delete closes them first thing; 1.7 and 2.x
 * close them in cio.Cancel), and what it has not read by then is lost: the last up to 64 KiB of
 * output whenever the reader is slower than the process was (a terminal, a busy log writer).
 * runc-v2 loses it too. So the exit is made known only once the client has read what the process
 * wrote: the daemon looks at what is unread (shim_io_unread), again and again, each look a little
 * later, until nothing is left, or nothing was taken for DRAIN_STALL_MS (no one reads: a
 * detached ctr), or DRAIN_MAX_MS have passed. The exit status is persisted at once regardless. */
#define DRAIN_STALL_MS	  200
#define DRAIN_MAX_MS	  2000
#define DRAIN_TICK_MAX_MS 16
#define NS_PER_MS	  1000000ull

static void on_drain_timer(struct ttrpc_timer *t)
{
	struct shim_proc *p = ttrpc_container_of(t, struct shim_proc, drain_timer);
	struct shim *s = p->c->shim;
	uint64_t now = ttrpc_now_ns();
	size_t unread = shim_io_unread(&p->io);

	if (unread != p->drain_unread) {
		p->drain_unread = unread;
		p->drain_moved_ns = now;
	}
	if (unread > 0 && now - p->drain_moved_ns < DRAIN_STALL_MS * NS_PER_MS &&
	    now - p->drain_start_ns < DRAIN_MAX_MS * NS_PER_MS) {
		if (p->drain_tick_ms < DRAIN_TICK_MAX_MS)
			p->drain_tick_ms *= 2;
		ttrpc_timer_arm(s->loop, &p->drain_timer, p->drain_tick_ms);
		return;
	}
	if (unread > 0)
		log_warn("process %s: its client left %zu bytes of its output unread for %llu ms; "
			 "the exit goes out without waiting longer",
			 p->id, unread,
			 (unsigned long long)((now - p->drain_moved_ns) / NS_PER_MS));
	exit_after_output(s, p);
}

void shim_proc_exited(struct shim *s, struct shim_proc *p, int wstatus)
{
	struct shim_container *c = p->c;

	p->reaped = true;
	p->exit_status = WIFEXITED(wstatus) ? (uint32_t)WEXITSTATUS(wstatus)
					    : 128u + (uint32_t)WTERMSIG(wstatus);
	clock_gettime(CLOCK_REALTIME, &p->exited_at);
	log_debug("process %s (pid %d) exited with status %u", p->id, (int)p->pid, p->exit_status);

	if (p->is_init) {
		shim_task_persist(c);
		/* With no pid namespace of its own, the container's other processes would outlive
		 * its init: kill them, as runc-v2 does. (With one, the kernel has killed them, and
		 * they were reaped before the init could finish dying.) */
		const struct rt_namespace *pidns = rt_spec_namespace(c->spec, RT_NS_PID);
		if (!pidns || pidns->path) {
			_cleanup_err_ struct wren_err *err = NULL;
			rt_container_kill(c->rt, SIGKILL, true, &err);
		}
	}
	p->drain_unread = shim_io_unread(&p->io);
	if (p->drain_unread == 0) {
		exit_after_output(s, p);
		return;
	}
	p->drain_start_ns = p->drain_moved_ns = ttrpc_now_ns();
	p->drain_tick_ms = 1;
	p->drain_timer.cb = on_drain_timer;
	ttrpc_timer_arm(s->loop, &p->drain_timer, p->drain_tick_ms);
}

static void on_sync(struct ttrpc_source *src, uint32_t events);

/* The runtime closes its sync fd when the conversation ends, before we can take it out of
 * epoll; a child cloned meanwhile may still hold a copy of that socket, which keeps the closed
 * fd's registration alive and firing. So epoll watches a duplicate that only we close, after
 * EPOLL_CTL_DEL. */
void shim_proc_watch_sync(struct shim *s, struct shim_proc *p, int fd)
{
	if (p->sync_watched || fd < 0)
		return;
	p->sync.fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	p->sync.cb = on_sync;
	if (p->sync.fd >= 0 && ttrpc_loop_add(s->loop, &p->sync, EPOLLIN) == 0) {
		p->sync_watched = true;
		return;
	}
	log_error("watch sync fd of %s: %s", p->id, strerror(errno));
	if (p->sync.fd >= 0)
		close(p->sync.fd);
	p->sync.fd = -1;
}

void shim_proc_unwatch_sync(struct shim *s, struct shim_proc *p)
{
	if (!p->sync_watched)
		return;
	ttrpc_loop_del(s->loop, &p->sync);
	close(p->sync.fd);
	p->sync.fd = -1;
	p->sync_watched = false;
}

/* The Wait's connection closed (containerd restarted, ctr interrupted): nobody reads the answer,
 * so the call goes now instead of at the exit, which may be hours away. */
static void waiter_cancelled(struct ttrpc_call *call, void *ud)
{
	struct proc_waiter *w = ud;

	for (struct proc_waiter **pp = &w->p->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	log_debug("wait for %s dropped: its connection closed", w->p->id);
	ttrpc_call_reply_error(call, TTRPC_CANCELLED, "connection closed");
	free(w);
}

void shim_proc_add_waiter(struct shim_proc *p, struct ttrpc_call *call)
{
	struct proc_waiter *w = xzalloc(sizeof(*w));

	w->call = call;
	w->p = p;
	w->next = p->waiters;
	p->waiters = w;
	ttrpc_call_on_cancel(call, waiter_cancelled, w);
}

/* Kill and reap a child that will never run (its create failed, or Delete came before Start).
 * It is dying or waiting on its sync socket, so the wait is immediate. */
void shim_proc_reap_now(struct shim_proc *p)
{
	int st;

	if (p->reaped || p->exited || p->pid <= 0)
		return;
	kill(p->pid, SIGKILL);
	while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
		;
	p->reaped = true;
	p->exited = true;
	p->exit_status = 128 + SIGKILL;
	clock_gettime(CLOCK_REALTIME, &p->exited_at);
}

static void free_proc(struct shim *s, struct shim_proc *p)
{
	ttrpc_timer_cancel(s->loop, &p->drain_timer);
	shim_proc_unwatch_sync(s, p);
	while (p->waiters) {
		struct proc_waiter *w = p->waiters;
		p->waiters = w->next;
		ttrpc_call_reply_error(w->call, TTRPC_NOT_FOUND,
				       "process %s was deleted: not found", p->id);
		free(w);
	}
	if (p->pending)
		ttrpc_call_reply_error(p->pending, TTRPC_UNKNOWN, "process %s was deleted", p->id);
	p->pending = NULL;
	shim_io_close(&p->io);
	if (p->rt_exec)
		rt_exec_free(p->rt_exec);
	if (p->spec)
		rt_process_free(p->spec);
	free(p->id);
	free(p->stdin_path);
	free(p->stdout_path);
	free(p->stderr_path);
}

void shim_task_remove_exec(struct shim *s, struct shim_proc *p)
{
	for (struct shim_proc **pp = &p->c->execs; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	shim_proc_reap_now(p);
	free_proc(s, p);
	free(p);
}

/* Everything the container holds on the host goes: its processes, cgroup, rootfs mount, stdio.
 * True when all of it went (the cgroup was removed and the rootfs unmounted, or there were
 * none). */
static bool release(struct shim *s, struct shim_container *c)
{
	_cleanup_err_ struct wren_err *err = NULL;
	bool released = true;

	for (struct shim_container **pp = &s->containers; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	shim_checkpoint_abort(c);
	while (c->execs) {
		struct shim_proc *p = c->execs;
		c->execs = p->next;
		shim_proc_reap_now(p);
		free_proc(s, p);
		free(p);
	}
	ttrpc_timer_cancel(s->loop, &c->init_exit_timer);
	shim_oom_unwatch(s, c);
	if (c->rt) {
		if (!c->init.exited && c->init.status != PROC_STOPPED)
			shim_proc_reap_now(&c->init);
		if (rt_container_destroy(c->rt, &err) < 0) {
			log_error("destroy %s: %s", c->id, err->msg);
			wren_err_freep(&err);
			released = false;
		}
	}
	closep(&c->rootfs_tree);
	if (c->rootfs_mounted) {
		_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", c->bundle);
		if (rt_rootfs_unmount(rootfs, &err) < 0) {
			log_error("unmount %s: %s", rootfs, err->msg);
			released = false;
		}
	}
	return released;
}

static void free_container(struct shim *s, struct shim_container *c)
{
	if (c->rt)
		rt_container_free(c->rt);
	free_proc(s, &c->init);
	if (c->spec)
		rt_spec_free(c->spec);
	free(c->create_event);
	free(c->id);
	free(c->bundle);
	free(c);
}

void shim_task_remove(struct shim *s, struct shim_container *c)
{
	release(s, c);
	free_container(s, c);
}

/* After the cleanup, and only if all of it succeeded, the state file gets "cleaned": the delete
 * action that containerd 1.6 runs after every task deletion then only prints the status. The
 * status need not be written before the cleanup: the init's exit wrote it, and an init that never
 * ran was just killed, which is what a missing status reads as (137). So one write at the end
 * does, usually just the mark appended (shim_state_write). A daemon that dies before it leaves
 * the file without the mark, and the delete action does the whole cleanup, which finds little or
 * nothing left. */
void shim_task_delete(struct shim *s, struct shim_container *c)
{
	persist(c, release(s, c));
	free_container(s, c);
}

/* ---- the conversation with a child being set up ---------------------------------------------- */

static void proc_failed(struct shim *s, struct shim_proc *p, struct wren_err *err);

static void init_created(struct shim *s, struct shim_container *c)
{
	Containerd__Task__V2__CreateTaskResponse resp =
	    CONTAINERD__TASK__V2__CREATE_TASK_RESPONSE__INIT;
	Containerd__Events__TaskCreate *ev;

	if (c->init.terminal) {
		_cleanup_err_ struct wren_err *err = NULL;
		if (shim_io_attach_console(&c->init.io, rt_container_take_console(c->rt), &err) <
		    0) {
			proc_failed(s, &c->init, err);
			return;
		}
	}
	c->init.status = PROC_CREATED;
	shim_proc_unwatch_sync(s, &c->init);
	shim_io_release_child(&c->init.io);
	ev = containerd__events__task_create__unpack(NULL, c->create_event_len, c->create_event);
	if (ev) {
		ev->pid = (uint32_t)c->init.pid;
		shim_publish(s->events, "/tasks/create", "containerd.events.TaskCreate", &ev->base);
		containerd__events__task_create__free_unpacked(ev, NULL);
	}
	free(c->create_event);
	c->create_event = NULL;
	resp.pid = (uint32_t)c->init.pid;
	if (c->init.pending)
		shim_reply(c->init.pending, &resp.base);
	c->init.pending = NULL;
}

static void proc_started(struct shim *s, struct shim_proc *p)
{
	Containerd__Task__V2__StartResponse resp = CONTAINERD__TASK__V2__START_RESPONSE__INIT;

	p->status = PROC_RUNNING;
	shim_proc_unwatch_sync(s, p);
	if (p->is_init) {
		Containerd__Events__TaskStart ev = CONTAINERD__EVENTS__TASK_START__INIT;
		ev.container_id = p->c->id;
		ev.pid = (uint32_t)p->pid;
		shim_publish(s->events, "/tasks/start", "containerd.events.TaskStart", &ev.base);
	} else {
		Containerd__Events__TaskExecStarted ev =
		    CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;
		ev.container_id = p->c->id;
		ev.exec_id = p->id;
		ev.pid = (uint32_t)p->pid;
		shim_io_release_child(&p->io);
		shim_publish(s->events, "/tasks/exec-started", "containerd.events.TaskExecStarted",
			     &ev.base);
	}
	resp.pid = (uint32_t)p->pid;
	if (p->pending)
		shim_reply(p->pending, &resp.base);
	p->pending = NULL;
}

static void proc_failed(struct shim *s, struct shim_proc *p, struct wren_err *err)
{
	struct ttrpc_call *call = p->pending;

	p->pending = NULL;
	shim_proc_unwatch_sync(s, p);
	log_warn("%s %s failed: %s", p->is_init ? "container" : "exec", p->id, err->msg);
	if (p->is_init && p->status == PROC_CREATING) {
		/* containerd follows a failed Create with Delete, which must answer NOT_FOUND:
		 * nothing of this container may remain. */
		struct shim_container *c = p->c;
		_cleanup_free_ char *state = xasprintf("%s/%s", c->bundle, SHIM_STATE_FILE);

		shim_task_remove(s, c);
		unlink(state);
		if (call)
			shim_reply_err(call, err);
		return;
	}
	/* A Start that failed: the child reported why and exits; its exit is reaped as usual.
	 * Its stdio goes now, so that a client waiting for EOF (ctr exec) is not held. */
	p->status = PROC_CREATED;
	if (!p->is_init)
		shim_io_close(&p->io);
	if (call)
		shim_reply_err(call, err);
}

/* Drive the child's conversation one step; also called from the exit path so that a Create or
 * Start reply is settled before the exit of that process is recorded. */
static void sync_step(struct shim *s, struct shim_proc *p)
{
	_cleanup_err_ struct wren_err *err = NULL;
	int r;

	r = p->is_init ? rt_container_on_sync(p->c->rt, &err) : rt_exec_on_sync(p->rt_exec, &err);
	if (r < 0) {
		if (!err)
			wren_err_code(&err, WREN_E_UNKNOWN, "process %s failed to start", p->id);
		proc_failed(s, p, err);
	} else if (r == RT_SYNC_CREATED && p->is_init && p->status == PROC_CREATING) {
		init_created(s, p->c);
	} else if (r == RT_SYNC_STARTED) {
		proc_started(s, p);
	}
}

static void on_sync(struct ttrpc_source *src, uint32_t events)
{
	struct shim_proc *p = (struct shim_proc *)((char *)src - offsetof(struct shim_proc, sync));

	sync_step(p->c->shim, p);
}

/* SIGCHLD: reap everything; dispatch exits of our processes, execs before inits so that an
 * exec's /tasks/exit precedes its container's. Orphans reparented to us (we are the subreaper)
 * are just reaped. */
void shim_service_on_exit(struct shim *s, pid_t pid, int wstatus)
{
	if (shim_checkpoint_reaped(s, pid, wstatus))
		return;
	for (struct shim_container *c = s->containers; c; c = c->next) {
		struct shim_proc *p = NULL;

		if (c->init.pid == pid && !c->init.reaped) {
			p = &c->init;
		} else {
			for (struct shim_proc *e = c->execs; e; e = e->next)
				if (e->pid == pid && !e->reaped)
					p = e;
		}
		if (!p)
			continue;
		p->reaped = true; /* teardown must not wait for it */
		if (p->status == PROC_CREATING || p->status == PROC_STARTING) {
			/* Settle the pending reply from what the child said before it died, so
			 * that the start (and its event) comes before the exit. The child's end of
			 * the sync socket closed before it became a zombie: this step reads all
			 * there is, up to EOF. A failed create removes the container, so look it
			 * up again after. */
			_cleanup_free_ char *id = xstrdup(c->id);

			sync_step(s, p);
			if (!shim_task_find(s, id))
				return;
		}
		shim_proc_exited(s, p, wstatus);
		return;
	}
}
