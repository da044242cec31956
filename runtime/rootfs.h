/* The container's filesystem view. containerd's rootfs mounts (rt_rootfs_mount/unmount in
 * runtime.h) run in the daemon: rootfs_mount.c. What is here runs in the init child, inside its
 * new mount namespace, in this order:
 *   rt_rootfs_prepare   propagation of /, the detached rootfs attached (rt_rootfs_detach), bind
 *                       the rootfs onto itself, the spec's mounts in order
 *                       (destinations resolved under the rootfs: no symlink escapes), devices,
 *                       /dev symlinks
 *   (createContainer hooks)
 *   rt_rootfs_pivot     pivot_root, or MS_MOVE + chroot with no_pivot_root
 *   rt_rootfs_console   with process.terminal: the terminal (rootfs_console.c)
 *   rt_rootfs_finalize  rootfsPropagation on /, readonly paths, masked paths, readonly root */
#ifndef WREN_ROOTFS_H
#define WREN_ROOTFS_H

#include <stdbool.h>

#include "runtime/err.h"
#include "runtime/spec.h"

/* tree: the rootfs as a detached mount tree (rt_rootfs_detach) to attach at the spec's root path
 * first, or -1: the rootfs is there already. */
int rt_rootfs_prepare(const struct rt_spec *spec, int tree, struct wren_err **err);
int rt_rootfs_pivot(const struct rt_spec *spec, bool no_pivot_root, struct wren_err **err);
/* Open a pty in the container's devpts (after pivot_root), bind its peer onto /dev/console, make
 * the peer our fds 0-2 and controlling terminal (we must lead a session), owned by p's user.
 * *master is the other end (O_CLOEXEC) for the shim. */
int rt_rootfs_console(const struct rt_process *p, int *master, struct wren_err **err);
int rt_rootfs_finalize(const struct rt_spec *spec, struct wren_err **err);

/* Open path (absolute inside root, or relative) under rootfd without leaving it (symlinks and ".."
 * resolved as if rootfd were "/"), creating missing directories and, if last_is_file, the last
 * component as an empty file. Returns an O_PATH fd. */
int rt_rootfs_open_in_root(int rootfd, const char *path, bool create, bool last_is_file,
			   struct wren_err **err);

#endif
