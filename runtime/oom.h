/* Knowing when the kernel OOM-kills in a container's cgroup, as an fd the daemon's loop watches.
 * v1: an eventfd registered through cgroup.event_control on memory.oom_control (the kernel signals
 * it when the cgroup hits its limit and the OOM killer runs, before the victim dies). v2: inotify
 * on memory.events, whose oom_kill count is re-read on every change. */
#ifndef WREN_OOM_H
#define WREN_OOM_H

#include <stdint.h>

#include "runtime/cgroup.h"
#include "runtime/err.h"

struct rt_oom_watch;

/* Watch the memory cgroup of cg (its v1 memory hierarchy, or the v2 directory). A host without
 * a memory controller there is FAILED_PRECONDITION. */
int rt_oom_watch_open(const struct rt_cgroup *cg, struct rt_oom_watch **out, struct wren_err **err);
/* The same on a directory: a v1 memory cgroup dir, or a v2 cgroup dir (for tests, too). */
int rt_oom_watch_open_v1(const char *memory_dir, struct rt_oom_watch **out, struct wren_err **err);
int rt_oom_watch_open_v2(const char *dir, struct rt_oom_watch **out, struct wren_err **err);
/* Readable when something may have happened. Owned by the watch. */
int rt_oom_watch_fd(const struct rt_oom_watch *w);
/* Never blocks: *events = how many OOM events since the last call (0 if none). Call it when the
 * fd is readable, and also before reporting the init's exit, so that an OOM kill whose
 * notification is still queued is not reported after the exit it caused. */
int rt_oom_watch_read(struct rt_oom_watch *w, uint64_t *events, struct wren_err **err);
void rt_oom_watch_free(struct rt_oom_watch *w);

#endif
