/* The init's terminal, made inside the container as runc's init makes it: a pty of the container's
 * own devpts instance (so the process sees /dev/pts/0, and its user can reopen it by that name),
 * bound onto /dev/console, the controlling terminal and stdio of the init. The master goes to the
 * shim, which copies between it and the client's FIFOs (shim/console.c). See rootfs.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/rootfs.h"
#include "runtime/util.h"

#define FD_PATH_MAX 32

/* TIOCGPTPEER (Linux 4.13) opens the peer without a path lookup; its name where the kernel lacks
 * it. */
static int open_peer(int master, const char *name, struct wren_err **err)
{
	int fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno != EINVAL && errno != ENOTTY)
		return wren_err_errno(err, errno, "open the peer of /dev/ptmx");
	fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return wren_err_errno(err, errno, "open %s", name);
	return fd;
}

/* /dev/console becomes the terminal: a bind of the peer (created as an empty file if missing). */
static int bind_console(int peer, const char *name, struct wren_err **err)
{
	_cleanup_close_ int root = -1, target = -1;
	char src[FD_PATH_MAX], dst[FD_PATH_MAX];

	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return wren_err_errno(err, errno, "open /");
	target = rt_rootfs_open_in_root(root, "/dev/console", true, true, err);
	if (target < 0)
		return wren_err_wrap(err, "/dev/console for %s", name);
	snprintf(src, sizeof(src), "/proc/self/fd/%d", peer);
	snprintf(dst, sizeof(dst), "/proc/self/fd/%d", target);
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return wren_err_errno(err, errno, "bind %s onto /dev/console", name);
	return 0;
}

int rt_rootfs_console(const struct rt_process *p, int *master, struct wren_err **err)
{
	_cleanup_close_ int m = -1, peer = -1;
	char name[64];

	/* /dev/ptmx is our symlink to pts/ptmx: the container's devpts (newinstance, ptmxmode) */
	m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return wren_err_errno(err, errno, "open /dev/ptmx for the terminal");
	if (unlockpt(m) < 0)
		return wren_err_errno(err, errno, "unlockpt");
	if (ptsname_r(m, name, sizeof(name)) != 0)
		return wren_err_errno(err, errno, "ptsname");
	peer = open_peer(m, name, err);
	if (peer < 0)
		return -1;
	/* the owner is the process's user; group and mode stay what the devpts mount gives a new
	 * peer (gid=5, mode=0620 in containerd's spec), as runc leaves them */
	if (fchown(peer, p->uid, (gid_t)-1) < 0)
		return wren_err_errno(err, errno, "chown %s to uid %u", name, p->uid);
	if (bind_console(peer, name, err) < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (dup2(peer, i) < 0)
			return wren_err_errno(err, errno, "make %s fd %d", name, i);
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		return wren_err_errno(err, errno, "make %s the controlling terminal", name);
	*master = steal_fd(&m);
	return 0;
}
