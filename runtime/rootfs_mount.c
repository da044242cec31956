/* containerd's rootfs mounts (CreateTaskRequest.rootfs), done by the daemon in its own mount
 * namespace onto <bundle>/rootfs, and their removal: see runtime.h and shim-protocol.md §7.
 *
 * Long overlay option strings (many layers) are shortened without chdir (the daemon's cwd is
 * shared by everything it does): the lowerdirs' common prefix becomes /proc/self/fd/N of an
 * O_PATH fd held across the mount. If the data still does not fit a page, the mount fails with
 * a clear error rather than being truncated by the kernel. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include "runtime/mountopt.h"
#include "runtime/syscalls.h"
#include "runtime/runtime.h"
#include "runtime/util.h"

#define FD_PATH_MAX    32
#define MS_PROPAGATION (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)

/* overlay's data must fit a page: shorten lowerdir=A:B:C by replacing their longest common
 * directory prefix with /proc/self/fd/N of an O_PATH fd on it (the mount is done by this process,
 * so the magic link resolves; no chdir in the daemon). *keep_fd holds the fd until the mount. */
static char *overlay_compact(const char *data, int *keep_fd, struct wren_err **err)
{
	const char *lo = strstr(data, "lowerdir=");
	_cleanup_free_ char *lower = NULL, *prefix = NULL;
	size_t plen, n;
	char fdp[FD_PATH_MAX], *out, *o;

	if (lo == NULL || (lo != data && lo[-1] != ','))
		return NULL;
	lo += strlen("lowerdir=");
	n = strcspn(lo, ",");
	lower = xstrndup(lo, n);
	/* common prefix of all entries, cut back to a '/' */
	plen = strcspn(lower, ":");
	for (const char *p = lower; *p;) {
		size_t len = strcspn(p, ":"), k = 0;
		while (k < plen && k < len && p[k] == lower[k])
			k++;
		plen = k;
		p += len;
		if (*p == ':')
			p++;
	}
	while (plen > 0 && lower[plen - 1] != '/')
		plen--;
	if (plen <= 1)
		return NULL;
	prefix = xstrndup(lower, plen);
	*keep_fd = open(prefix, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*keep_fd < 0) {
		wren_err_errno(err, errno, "open overlay lowerdir prefix %s", prefix);
		return NULL;
	}
	snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", *keep_fd);
	out = o = xmalloc(strlen(data) + 64 * (strlen(lower) / 2 + 2));
	memcpy(o, data, (size_t)(lo - data));
	o += lo - data;
	for (const char *p = lower; *p;) {
		size_t len = strcspn(p, ":");
		o += sprintf(o, "%s/%.*s", fdp, (int)(len - plen), p + plen);
		p += len;
		if (*p == ':') {
			*o++ = ':';
			p++;
		}
	}
	strcpy(o, lo + n);
	return out;
}

/* A mount's `target` (containerd 2.2's mount manager) names a path inside the rootfs, which by
 * then holds the image's files: a symlink there must not lead the mount outside. Resolve it under
 * dir as if dir were "/" (containerd resolves it the same way, in its scope), and mount on the
 * real path that names. Nothing runs in the rootfs yet, so the path cannot change before use. */
static char *resolve_target(const char *dir, const char *target, struct wren_err **err)
{
	_cleanup_close_ int root = -1, fd = -1;
	char link[64], real[PATH_MAX];
	ssize_t n;

	root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		wren_err_errno(err, errno, "open %s", dir);
		return NULL;
	}
	fd = rt_sys_openat2(root, target, O_PATH | O_CLOEXEC, 0,
			    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (fd < 0) {
		wren_err_errno(err, errno, "resolve mount target %s in %s", target, dir);
		return NULL;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	if (n < 0) {
		wren_err_errno(err, errno, "readlink %s", link);
		return NULL;
	}
	real[n] = 0;
	return xstrdup(real);
}

static int mount_one_rootfs(const char *dir, const struct rt_mount *m, struct wren_err **err)
{
	struct rt_mountopt mo;
	_cleanup_free_ char *target = NULL, *compact = NULL;
	_cleanup_close_ int keep = -1;
	const char *type = m->type, *data;
	unsigned long flags;
	long page = sysconf(_SC_PAGESIZE);

	rt_mountopt_parse(m->options, m->n_options, &mo);
	_cleanup_free_ char *mo_data = mo.data;
	data = mo.data;
	flags = mo.flags;
	target = m->target && m->target[0] ? resolve_target(dir, m->target, err) : xstrdup(dir);
	if (!target)
		return -1;
	if (mo.bind || (type && strcmp(type, "bind") == 0)) {
		flags |= MS_BIND;
		type = NULL;
	}
	if (type && strcmp(type, "overlay") == 0 && data && strlen(data) >= (size_t)page - 512) {
		compact = overlay_compact(data, &keep, err);
		if (compact == NULL && *err)
			return -1;
		if (compact)
			data = compact;
		if (strlen(data) >= (size_t)page)
			return wren_err_code(
			    err, WREN_E_INVALID_ARGUMENT,
			    "overlay mount options too long (%zu bytes, limit %ld)", strlen(data),
			    page - 1);
	}
	if (mount(m->source, target, type, flags & ~(unsigned long)MS_PROPAGATION, data) < 0)
		return wren_err_errno(err, errno, "mount %s (%s) on %s", m->source,
				      type ? type : "bind", target);
	if ((flags & MS_BIND) && (flags & MS_RDONLY) &&
	    mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) {
		int e = errno;
		umount2(target, MNT_DETACH);
		return wren_err_errno(err, e, "remount %s read-only", target);
	}
	if (mo.propagation && mount(NULL, target, NULL, mo.propagation, NULL) < 0) {
		int e = errno;
		umount2(target, MNT_DETACH);
		return wren_err_errno(err, e, "set propagation of %s", target);
	}
	return 0;
}

int rt_rootfs_mount(const char *dir, const struct rt_mount *m, size_t n, struct wren_err **err)
{
	for (size_t i = 0; i < n; i++) {
		if (mount_one_rootfs(dir, &m[i], err) == 0)
			continue;
		/* in reverse: a later target may sit on an earlier mount */
		while (i-- > 0) {
			const char *t = m[i].target;
			_cleanup_free_ char *p =
			    t && t[0] ? resolve_target(dir, t, NULL) : xstrdup(dir);

			if (p)
				umount2(p, MNT_DETACH);
		}
		return -1;
	}
	return 0;
}

int rt_rootfs_unmount(const char *dir, struct wren_err **err)
{
	int busy = 0;

	for (;;) {
		if (umount2(dir, 0) == 0) {
			busy = 0;
			continue;
		}
		if (errno == EINVAL || errno == ENOENT)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EBUSY && busy++ < 50) {
			struct timespec ts = {0, 50 * 1000 * 1000};
			nanosleep(&ts, NULL);
			continue;
		}
		return wren_err_errno(err, errno, "unmount %s", dir);
	}
}

bool rt_rootfs_detachable(const struct rt_spec *spec, const char *dir)
{
	const struct rt_namespace *mnt = rt_spec_namespace(spec, RT_NS_MOUNT);
	static const int runtime_ns_hooks[] = {RT_HOOK_PRESTART, RT_HOOK_CREATE_RUNTIME,
					       RT_HOOK_POSTSTART, RT_HOOK_POSTSTOP};

	if (!mnt || (mnt->path && mnt->path[0]) || rt_spec_namespace(spec, RT_NS_USER))
		return false;
	if (!spec->root_path || strcmp(spec->root_path, dir) != 0)
		return false;
	if (spec->rootfs_propagation && strstr(spec->rootfs_propagation, "shared"))
		return false;
	for (size_t i = 0; i < sizeof(runtime_ns_hooks) / sizeof(runtime_ns_hooks[0]); i++)
		if (spec->n_hooks[runtime_ns_hooks[i]])
			return false;
	return true;
}

int rt_rootfs_detach(const char *dir, struct wren_err **err)
{
	struct mount_attr priv = {.propagation = MS_PRIVATE};
	_cleanup_close_ int tree = -1;
	int fd;

	tree = open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		return wren_err_errno(err, errno, "copy the rootfs mounts at %s", dir);
	/* private: pivot_root refuses a shared root, and the host's later mounts and unmounts under
	 * the bundle must not reach into the container (nor the container's out) */
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &priv, sizeof(priv)) < 0)
		return wren_err_errno(err, errno, "make the rootfs copy private");
	if (tree < 3) { /* 0 means "none" to rt_create_opts.rootfs_tree */
		fd = fcntl(tree, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return wren_err_errno(err, errno, "dup the rootfs copy");
		close(tree);
		tree = fd;
	}
	/* lazily, so that a stray reference cannot fail it; the copy keeps the filesystems */
	while (umount2(dir, MNT_DETACH) == 0)
		;
	if (errno != EINVAL)
		return wren_err_errno(err, errno, "unmount %s", dir);
	return steal_fd(&tree);
}
