/* The task API's cgroup methods (Pause, Resume, Update, Stats) and the OOM watch that publishes
 * /tasks/oom, on top of runtime/'s cgroup modules. service.c registers the handlers; task.c calls
 * the watch hooks on an init's exit and on teardown. */
#ifndef WREN_SHIM_CGROUP_OPS_H
#define WREN_SHIM_CGROUP_OPS_H

#include <stdbool.h>

#include "shim/task.h"
#include "ttrpc/ttrpc.h"

void shim_h_pause(struct ttrpc_call *call, void *ud);
void shim_h_resume(struct ttrpc_call *call, void *ud);
void shim_h_update(struct ttrpc_call *call, void *ud);
void shim_h_stats(struct ttrpc_call *call, void *ud);

/* Start watching the container's cgroup for OOM kills (at the init's Start, as runc-v2 does).
 * A failure is logged, not fatal: the container runs without /tasks/oom. */
void shim_oom_watch(struct shim *s, struct shim_container *c);
/* The init's exit is about to be published: publish a /tasks/oom still queued in the watch
 * first (the kernel signals it before the victim dies, but the loop may see the exit first),
 * thaw a paused container as runc-v2 does, and stop watching. */
void shim_cgroup_init_exited(struct shim *s, struct shim_container *c, bool was_paused);
/* Stop watching (teardown). Idempotent. */
void shim_oom_unwatch(struct shim *s, struct shim_container *c);

#endif
