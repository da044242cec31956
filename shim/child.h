/* What every helper process the daemon starts (a binary:// logger, criu) gets from posix_spawn:
 * the signal state of a fresh process, not the daemon's. */
#ifndef WREN_SHIM_CHILD_H
#define WREN_SHIM_CHILD_H

#include <spawn.h>

/* posix_spawnattr_init, then: no blocked signals and default dispositions for those the daemon
 * blocks (SIGCHLD, SIGTERM, SIGINT go to its signalfd) or ignores (SIGPIPE). The caller destroys
 * it. */
void shim_child_spawnattr(posix_spawnattr_t *attr);

#endif
