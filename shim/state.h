/* What the daemon persists in the bundle so that the `delete` action can clean up with no daemon
 * (architecture.md §4): the init's pid, its cgroup, its exit status once known, and whether the
 * daemon's own Delete already released everything. One small key=value file, replaced
 * atomically or added to (state.c). */
#ifndef WREN_SHIM_STATE_H
#define WREN_SHIM_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/err.h"

#define SHIM_STATE_FILE "wren-state"

struct shim_state {
	pid_t pid;
	char cgroup[512];
	bool exited;
	uint32_t exit_status;
	int64_t exited_sec;
	int32_t exited_nsec;
	/* The daemon's Delete removed the cgroup (killing what was in it) and unmounted the rootfs
	 * before this was written: the delete action has nothing left to clean. */
	bool cleaned;
};

/* The daemon's memory of one bundle's file: what its last successful write put there. The file
 * is written by this daemon only, so it is never read back to tell whether a write is needed. */
struct shim_state_cache {
	bool valid;
	struct shim_state last;
};

/* Replace the file with st, unless cache says it already holds st (cache NULL: always). A reader
 * sees the old file or the new one, never a mix: the text goes to a temporary that is renamed
 * over it. The exceptions, the init's exit and "cleaned" added to what the file holds, are
 * appended to it (see state.c); a reader ignores a last line it got only part of. */
int shim_state_write(const char *bundle, const struct shim_state *st,
		     struct shim_state_cache *cache, struct wren_err **err);
/* Missing file → -1 with a NOT_FOUND error. */
int shim_state_read(const char *bundle, struct shim_state *st, struct wren_err **err);

#endif
