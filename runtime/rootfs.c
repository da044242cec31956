/* The container's filesystem view in the init child: the OCI mounts, devices, pivot_root, masked
 * and readonly paths. See rootfs.h (containerd's rootfs mounts are in rootfs_mount.c).
 *
 * Every mount destination is resolved with openat2(RESOLVE_IN_ROOT) under the rootfs and mounted
 * through /proc/self/fd/N of the resolved O_PATH fd, so a symlink planted in an image cannot point
 * a mount outside the container (the class of runc CVE-2021-30465). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/rootfs.h"
#include "runtime/syscalls.h"
#include "runtime/util.h"

#define FD_PATH_MAX    32
#define MS_PROPAGATION (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)

static void fd_path(char buf[FD_PATH_MAX], int fd)
{
	snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

/* ---- safe paths under the rootfs ------------------------------------------------------------- */

#define RESOLVE_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

static int open_partial(int rootfd, const char *path, size_t len)
{
	_cleanup_free_ char *p = xstrndup(path, len);
	return rt_sys_openat2(rootfd, p[0] ? p : "/", O_PATH | O_CLOEXEC, 0, RESOLVE_ROOT);
}

/* A dangling symlink at the component [start, end) of *path: rewrite *path to go through its
 * target (absolute targets are inside the root too), so the walk creates the target in the
 * rootfs, as runc's MkdirAllInRoot does. 1 if rewritten, 0 if not a symlink, -1 on error. */
static int follow_dangling(int parent, char **path, size_t start, size_t end, int *links)
{
	char target[PATH_MAX];
	_cleanup_free_ char *name = xstrndup(*path + start, end - start);
	struct stat st;
	ssize_t n;
	char *np;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
		return 0;
	if (++*links > 40) {
		errno = ELOOP;
		return -1;
	}
	n = readlinkat(parent, name, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = 0;
	if (target[0] == '/')
		np = xasprintf("%s%s", target, *path + end);
	else
		np = xasprintf("%.*s%s%s", (int)start, *path, target, *path + end);
	free(*path);
	*path = np;
	return 1;
}

/* The common case of a missing path: only its last component is (/dev/pts, /dev/shm, /dev/mqueue
 * on a fresh /dev). Resolve the parent in one step, create the last component in it and resolve
 * the whole path again. Returns the fd, or -1 with errno; ENOENT when the walk below must do it
 * (the parent is missing too, or the last component is a dangling symlink: mkdirat says EEXIST
 * and the path still does not resolve). */
static int create_last(int rootfd, const char *path, bool last_is_file)
{
	_cleanup_free_ char *dir = xstrdup(path);
	_cleanup_close_ int parent = -1;
	size_t len = strlen(dir);
	char *slash, *name;
	int r;

	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = 0;
	slash = strrchr(dir, '/');
	if (slash == NULL || slash[1] == 0 || strcmp(slash + 1, "..") == 0 ||
	    strcmp(slash + 1, ".") == 0) {
		errno = ENOENT;
		return -1;
	}
	name = slash + 1;
	*slash = 0;
	parent = rt_sys_openat2(rootfd, dir[0] ? dir : "/", O_PATH | O_CLOEXEC, 0, RESOLVE_ROOT);
	if (parent < 0)
		return -1;
	if (last_is_file) {
		r = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
			   0644);
		if (r >= 0)
			close(r);
	} else {
		r = mkdirat(parent, name, 0755);
	}
	if (r < 0 && errno != EEXIST)
		return -1;
	return rt_sys_openat2(rootfd, path, O_PATH | O_CLOEXEC, 0, RESOLVE_ROOT);
}

int rt_rootfs_open_in_root(int rootfd, const char *path, bool create, bool last_is_file,
			   struct wren_err **err)
{
	int fd = rt_sys_openat2(rootfd, path, O_PATH | O_CLOEXEC, 0, RESOLVE_ROOT);
	_cleanup_close_ int parent = -1;
	_cleanup_free_ char *cur = NULL;
	size_t i = 0;
	int links = 0;

	if (fd >= 0 || errno != ENOENT || !create) {
		if (fd < 0)
			wren_err_errno(err, errno, "resolve %s in the rootfs", path);
		return fd;
	}
	fd = create_last(rootfd, path, last_is_file);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT)
		return wren_err_errno(err, errno, "create %s in the rootfs", path);
	/* walk the components, each resolved afresh from the root, creating what is missing */
	cur = xstrdup(path);
	parent = open_partial(rootfd, "", 0);
	if (parent < 0)
		return wren_err_errno(err, errno, "open the rootfs");
	while (cur[i]) {
		size_t start, end;
		_cleanup_free_ char *name = NULL;
		int next;

		while (cur[i] == '/')
			i++;
		start = i;
		while (cur[i] && cur[i] != '/')
			i++;
		end = i;
		if (end == start)
			break;
		next = open_partial(rootfd, cur, end);
		if (next < 0 && errno == ENOENT) {
			int r = follow_dangling(parent, &cur, start, end, &links);
			if (r < 0)
				return wren_err_errno(err, errno, "follow %.*s in the rootfs",
						      (int)end, cur);
			if (r > 0) { /* start again on the rewritten path */
				close(parent);
				parent = open_partial(rootfd, "", 0);
				if (parent < 0)
					return wren_err_errno(err, errno, "open the rootfs");
				i = 0;
				continue;
			}
			bool last = cur[strspn(cur + end, "/") + end] == 0;
			name = xstrndup(cur + start, end - start);
			if (last && last_is_file) {
				int f = openat(parent, name,
					       O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
					       0644);
				if (f >= 0)
					close(f);
				else if (errno != EEXIST)
					return wren_err_errno(err, errno, "create %s in the rootfs",
							      cur);
			} else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
				return wren_err_errno(err, errno, "mkdir %.*s in the rootfs",
						      (int)end, cur);
			}
			next = open_partial(rootfd, cur, end);
		}
		if (next < 0)
			return wren_err_errno(err, errno, "resolve %.*s in the rootfs", (int)end,
					      cur);
		close(parent);
		parent = next;
	}
	return steal_fd(&parent);
}

/* Flags a remount must keep: the kernel refuses to clear locked ones, and keeping them is right. */
static unsigned long kept_flags(int fd)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (fstatvfs(fd, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* Remount the mount at fd (an O_PATH fd on its root) as a bind with flags. */
static int bind_remount(int fd, unsigned long flags)
{
	char p[FD_PATH_MAX];

	fd_path(p, fd);
	return mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | flags | kept_flags(fd), NULL);
}

/* ---- the spec's mounts ------------------------------------------------------------------------
 */

struct mnt_ctx {
	const struct rt_spec *spec;
	int rootfd;
};

static const char *mnt_name(const struct rt_mount_spec *m)
{
	return m->source && m->source[0] ? m->source : m->type;
}

/* mount at dest (inside the rootfs): create it, mount, then apply ro-bind and propagation on the
 * new mount (re-resolved: the first fd still points below it). */
static int mount_at(struct mnt_ctx *cx, const char *dest, const char *source, const char *type,
		    unsigned long flags, unsigned long propagation, const char *data, bool bind,
		    bool is_file, struct wren_err **err)
{
	_cleanup_close_ int fd = -1, top = -1;
	char p[FD_PATH_MAX];
	unsigned long extra = flags & ~(unsigned long)(MS_BIND | MS_REC | MS_PROPAGATION);

	fd = rt_rootfs_open_in_root(cx->rootfd, dest, true, is_file, err);
	if (fd < 0)
		return -1;
	fd_path(p, fd);
	if (bind) {
		if (mount(source, p, NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
			return wren_err_errno(err, errno, "mount \"%s\" to \"%s\"", source, dest);
	} else if (mount(source, p, type, flags & ~(unsigned long)MS_PROPAGATION, data) < 0) {
		return wren_err_errno(err, errno, "mount \"%s\" to \"%s\"", source, dest);
	}
	if (!(bind && extra) && !propagation)
		return 0;
	top = rt_rootfs_open_in_root(cx->rootfd, dest, false, false, err);
	if (top < 0)
		return -1;
	if (bind && extra && bind_remount(top, extra) < 0)
		return wren_err_errno(err, errno, "remount \"%s\" with its options", dest);
	fd_path(p, top);
	if (propagation && mount(NULL, p, NULL, propagation, NULL) < 0)
		return wren_err_errno(err, errno, "set propagation of \"%s\"", dest);
	return 0;
}

/* cgroup mounts: cgroup2 on a v2 host; on v1 a tmpfs with one directory per hierarchy the init
 * belongs to, each a bind of its own cgroup (or a fresh mount inside a cgroup namespace). */
static int mount_cgroup(struct mnt_ctx *cx, const struct rt_mount_spec *m, struct wren_err **err)
{
	bool cgns = rt_spec_namespace(cx->spec, RT_NS_CGROUP) != NULL;
	unsigned long fl =
	    (m->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC) & ~(unsigned long)MS_RDONLY;
	_cleanup_free_ char *cg = NULL;
	char *line, *save = NULL;

	if (rt_cgroup_host_mode() == RT_CGROUP_V2) {
		if (cgns)
			return mount_at(cx, m->destination, "cgroup", "cgroup2", m->flags | fl,
					m->propagation, NULL, false, false, err);
		if (read_file("/proc/self/cgroup", 1 << 16, &cg, NULL) < 0)
			return wren_err_errno(err, errno, "read /proc/self/cgroup");
		char *path = strstr(cg, "0::");
		_cleanup_free_ char *src =
		    xasprintf("/sys/fs/cgroup%.*s", path ? (int)strcspn(path + 3, "\n") : 0,
			      path ? path + 3 : "");
		return mount_at(cx, m->destination, src, NULL,
				MS_BIND | MS_REC | (m->flags & MS_RDONLY), m->propagation, NULL,
				true, false, err);
	}
	if (mount_at(cx, m->destination, "tmpfs", "tmpfs", fl, 0, "mode=755", false, false, err) <
	    0)
		return -1;
	if (read_file("/proc/self/cgroup", 1 << 16, &cg, NULL) < 0)
		return wren_err_errno(err, errno, "read /proc/self/cgroup");
	for (line = strtok_r(cg, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ctrl = strchr(line, ':'), *path;
		if (!ctrl || !(path = strchr(++ctrl, ':')))
			continue;
		*path++ = 0;
		if (ctrl[0] == 0)
			continue; /* the v2 part of a hybrid host: not exposed, as runc does */
		const char *dir = strncmp(ctrl, "name=", 5) == 0 ? ctrl + 5 : ctrl;
		_cleanup_free_ char *dest = xasprintf("%s/%s", m->destination, dir);
		_cleanup_free_ char *src = xasprintf("/sys/fs/cgroup/%s%s", dir, path);
		_cleanup_free_ char *top = xasprintf("/sys/fs/cgroup/%s", dir);
		struct stat st;
		int r;

		if (!cgns && stat(top, &st) < 0)
			continue; /* a hierarchy the host does not mount where we look */
		if (cgns)
			r = mount_at(cx, dest, "cgroup", "cgroup", fl | (m->flags & MS_RDONLY), 0,
				     ctrl, false, false, err);
		else
			r = mount_at(cx, dest, src, NULL, MS_BIND | MS_REC | (m->flags & MS_RDONLY),
				     0, NULL, true, false, err);
		if (r < 0)
			return -1;
		/* cpu,cpuacct is also reachable as cpu and cpuacct */
		if (strchr(dir, ',')) {
			_cleanup_close_ int pfd =
			    rt_rootfs_open_in_root(cx->rootfd, m->destination, false, false, err);
			if (pfd < 0)
				return -1;
			_cleanup_free_ char *names = xstrdup(dir);
			char *s2 = NULL;
			for (char *n = strtok_r(names, ",", &s2); n; n = strtok_r(NULL, ",", &s2))
				if (symlinkat(dir, pfd, n) < 0 && errno != EEXIST)
					return wren_err_errno(err, errno, "symlink %s/%s",
							      m->destination, n);
		}
	}
	if (m->flags & MS_RDONLY) {
		_cleanup_close_ int top =
		    rt_rootfs_open_in_root(cx->rootfd, m->destination, false, false, err);
		if (top < 0 || bind_remount(top, MS_RDONLY) < 0)
			return wren_err_errno(err, errno, "remount \"%s\" read-only",
					      m->destination);
	}
	return 0;
}

/* rro, rnosuid and the like: on the new mount and every mount below it */
static int set_rec_attrs(struct mnt_ctx *cx, const struct rt_mount_spec *m, struct wren_err **err)
{
	struct mount_attr attr = {.attr_set = m->rec_set, .attr_clr = m->rec_clr};
	_cleanup_close_ int top =
	    rt_rootfs_open_in_root(cx->rootfd, m->destination, false, false, err);

	if (top < 0)
		return -1;
	if (mount_setattr(top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return wren_err_errno(err, errno, "set the recursive options of \"%s\"",
				      m->destination);
	return 0;
}

static int mount_entry(struct mnt_ctx *cx, const struct rt_mount_spec *m, struct wren_err **err)
{
	bool is_file = false;
	const char *type = m->type && m->type[0] ? m->type : NULL;

	if (type && (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0)) {
		if (mount_cgroup(cx, m, err) < 0)
			return wren_err_wrap(err, "mount \"%s\" to \"%s\"", mnt_name(m),
					     m->destination);
		return 0;
	}
	if (m->bind) {
		struct stat st;
		if (stat(m->source, &st) < 0)
			return wren_err_errno(err, errno, "mount \"%s\" to \"%s\": stat source",
					      m->source, m->destination);
		is_file = !S_ISDIR(st.st_mode);
	}
	if (mount_at(cx, m->destination, m->source && m->source[0] ? m->source : type, type,
		     m->flags, m->propagation, m->data, m->bind, is_file, err) < 0)
		return -1;
	if ((m->rec_set || m->rec_clr) && set_rec_attrs(cx, m, err) < 0)
		return -1;
	return 0;
}

/* ---- devices ----------------------------------------------------------------------------------
 */

static const struct rt_device default_devices[] = {
    {.path = "/dev/null", .type = 'c', .major = 1, .minor = 3},
    {.path = "/dev/zero", .type = 'c', .major = 1, .minor = 5},
    {.path = "/dev/full", .type = 'c', .major = 1, .minor = 7},
    {.path = "/dev/random", .type = 'c', .major = 1, .minor = 8},
    {.path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9},
    {.path = "/dev/tty", .type = 'c', .major = 5, .minor = 0},
};

/* The rootfs's /dev, resolved once for all the nodes made there, and who owns a node made in it
 * (our fsuid, and our fsgid unless /dev is setgid). */
struct dev_dir {
	int fd;
	uid_t uid;
	gid_t gid;
};

/* Create one device node. In /dev (the defaults and nearly every spec device) through dev->fd;
 * elsewhere resolved here. umask is 0, so mknodat gives the node its mode unless special bits
 * are asked for, and chown only runs when the owner must change. A node that already exists
 * (the image's, or a path listed twice) is kept, as runc keeps it. */
static int create_device(struct mnt_ctx *cx, const struct rt_device *d, const struct dev_dir *dev,
			 struct wren_err **err)
{
	_cleanup_free_ char *dir = xstrdup(d->path);
	char *slash = strrchr(dir, '/');
	const char *name = slash ? slash + 1 : dir;
	mode_t kind = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	mode_t perm = d->has_file_mode ? (d->file_mode & 07777) : 0666;
	uid_t uid = d->has_uid ? d->uid : 0;
	gid_t gid = d->has_gid ? d->gid : 0;
	_cleanup_close_ int own = -1;
	int pfd = dev->fd;
	bool owned = true; /* a new node's owner is already uid:gid */

	if (slash == NULL || name[0] == 0)
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "device path %s", d->path);
	*slash = 0;
	if (strcmp(dir, "/dev") == 0) {
		owned = dev->uid == uid && dev->gid == gid;
	} else {
		own = rt_rootfs_open_in_root(cx->rootfd, dir[0] ? dir : "/", true, false, err);
		if (own < 0)
			return wren_err_wrap(err, "create device %s", d->path);
		pfd = own;
		owned = false;
	}
	if (mknodat(pfd, name, kind | perm, makedev(d->major, d->minor)) == 0) {
		if ((perm & 07000) && fchmodat(pfd, name, perm, 0) < 0)
			return wren_err_errno(err, errno, "set mode of device %s", d->path);
		if (!owned && fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return wren_err_errno(err, errno, "set owner of device %s", d->path);
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	if (errno != EPERM)
		return wren_err_errno(err, errno, "mknod %s", d->path);
	/* no mknod (a user namespace): bind the host's node instead, as runc does */
	return mount_at(cx, d->path, d->path, NULL, MS_BIND, 0, NULL, true, true, err);
}

/* The spec's own entry for a default path wins: a privileged container lists every host device,
 * /dev/null and the rest among them, with the host's modes and owners. */
static bool spec_lists_device(const struct rt_spec *spec, const char *path)
{
	for (size_t i = 0; i < spec->n_devices; i++)
		if (strcmp(spec->devices[i].path, path) == 0)
			return true;
	return false;
}

static bool dev_is_bind(const struct rt_spec *spec)
{
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (strcmp(spec->mounts[i].destination, "/dev") == 0 && spec->mounts[i].bind)
			return true;
	return false;
}

static int create_devices(struct mnt_ctx *cx, struct wren_err **err)
{
	static const char *const links[][2] = {
	    {"/proc/self/fd", "fd"},
	    {"/proc/self/fd/0", "stdin"},
	    {"/proc/self/fd/1", "stdout"},
	    {"/proc/self/fd/2", "stderr"},
	};
	_cleanup_close_ int dev = rt_rootfs_open_in_root(cx->rootfd, "/dev", true, false, err);
	struct dev_dir dd = {.fd = dev};
	struct stat st;
	mode_t old;
	int r = 0;

	if (dev < 0)
		return -1;
	if (fstat(dev, &st) < 0)
		return wren_err_errno(err, errno, "stat /dev");
	dd.uid = geteuid();
	dd.gid = (st.st_mode & S_ISGID) ? st.st_gid : getegid();
	old = umask(0);
	for (size_t i = 0; r == 0 && i < sizeof(default_devices) / sizeof(default_devices[0]); i++)
		if (!spec_lists_device(cx->spec, default_devices[i].path))
			r = create_device(cx, &default_devices[i], &dd, err);
	for (size_t i = 0; r == 0 && i < cx->spec->n_devices; i++)
		r = create_device(cx, &cx->spec->devices[i], &dd, err);
	umask(old);
	if (r < 0)
		return -1;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
			return wren_err_errno(err, errno, "symlink /dev/%s", links[i][1]);
	/* /dev/ptmx must be the container's devpts instance, not the host's */
	if (unlinkat(dev, "ptmx", 0) < 0 && errno != ENOENT)
		return wren_err_errno(err, errno, "remove /dev/ptmx");
	if (symlinkat("pts/ptmx", dev, "ptmx") < 0)
		return wren_err_errno(err, errno, "symlink /dev/ptmx");
	return 0;
}

/* ---- the sequence -----------------------------------------------------------------------------
 */

static unsigned long propagation_flags(const char *s)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} t[] = {
	    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
	    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
	    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
	    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
	};
	for (size_t i = 0; s && i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i].name) == 0)
			return t[i].flags;
	return 0;
}

/* The longest mount point that is rootfs or a prefix of it, from mountinfo: the fallback for
 * kernels whose statx has no mount id (before 5.8). */
static char *parent_mount_scan(const char *rootfs, struct wren_err **err)
{
	_cleanup_free_ char *mi = NULL;
	char *best = NULL, *line, *save = NULL;
	size_t best_len = 0;

	if (read_file("/proc/self/mountinfo", 1 << 26, &mi, NULL) < 0) {
		wren_err_errno(err, errno, "read /proc/self/mountinfo");
		return NULL;
	}
	for (line = strtok_r(mi, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char mp[PATH_MAX];
		size_t l;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		l = strlen(mp);
		if (strncmp(rootfs, mp, l) == 0 && (rootfs[l] == '/' || rootfs[l] == 0 || l == 1) &&
		    l >= best_len) {
			free(best);
			best = xstrdup(mp);
			best_len = l;
		}
	}
	return best ? best : xstrdup("/");
}

static int mount_id(const char *path, uint64_t *id)
{
	struct statx stx;

	if (statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_MNT_ID, &stx) < 0 ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return -1;
	*id = stx.stx_mnt_id;
	return 0;
}

/* The mount point of the mount rootfs is on: rootfs itself when it is a mount point (containerd's
 * overlay is), the mount holding it otherwise. Binding rootfs onto itself puts the new root on
 * that mount, which pivot_root wants not shared. Climb from rootfs while the parent directory has
 * the same mount id: some stat calls, however many mounts the host has (mountinfo lists every
 * container's overlay). */
static char *parent_mount_of(const char *rootfs, struct wren_err **err)
{
	_cleanup_free_ char *dir = xstrdup(rootfs);
	uint64_t id, up;
	char *slash;

	if (strcmp(dir, "/") == 0)
		return xstrdup("/");
	if (mount_id(dir, &id) < 0)
		return parent_mount_scan(rootfs, err);
	while ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mount_id(dir, &up) < 0)
			return parent_mount_scan(rootfs, err);
		if (up != id) {
			*slash = '/';
			return steal_ptr(&dir);
		}
	}
	if (mount_id("/", &up) < 0)
		return parent_mount_scan(rootfs, err);
	return up == id ? xstrdup("/") : steal_ptr(&dir);
}

/* pivot_root refuses a new root whose parent mount is shared: make that parent private, as
 * runc does. */
static int parent_mount_private(const char *rootfs, struct wren_err **err)
{
	_cleanup_free_ char *mp = parent_mount_of(rootfs, err);

	if (mp == NULL)
		return -1;
	if (mount(NULL, mp, NULL, MS_PRIVATE, NULL) < 0)
		return wren_err_errno(err, errno, "make %s private", mp);
	return 0;
}

int rt_rootfs_prepare(const struct rt_spec *spec, int tree, struct wren_err **err)
{
	unsigned long prop = propagation_flags(spec->rootfs_propagation);
	struct mnt_ctx cx = {.spec = spec, .rootfd = -1};
	int r = -1;

	if (mount(NULL, "/", NULL, prop ? prop : MS_SLAVE | MS_REC, NULL) < 0)
		return wren_err_errno(err, errno, "set propagation of /");
	/* the rootfs comes now, into this namespace only: the host never sees it mounted */
	if (tree >= 0 &&
	    move_mount(tree, "", AT_FDCWD, spec->root_path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return wren_err_errno(err, errno, "attach the rootfs at %s", spec->root_path);
	if ((prop & MS_SHARED) && parent_mount_private(spec->root_path, err) < 0)
		return -1;
	if (mount(spec->root_path, spec->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return wren_err_errno(err, errno, "bind the rootfs %s", spec->root_path);
	cx.rootfd = open(spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cx.rootfd < 0)
		return wren_err_errno(err, errno, "open the rootfs %s", spec->root_path);
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (mount_entry(&cx, &spec->mounts[i], err) < 0)
			goto out;
	if (!dev_is_bind(spec) && create_devices(&cx, err) < 0)
		goto out;
	r = 0;
out:
	close(cx.rootfd);
	return r;
}

int rt_rootfs_pivot(const struct rt_spec *spec, bool no_pivot_root, struct wren_err **err)
{
	_cleanup_close_ int oldroot = -1, newroot = -1;

	if (no_pivot_root) {
		if (chdir(spec->root_path) < 0)
			return wren_err_errno(err, errno, "chdir %s", spec->root_path);
		if (mount(spec->root_path, "/", NULL, MS_MOVE, NULL) < 0)
			return wren_err_errno(err, errno, "move the rootfs to /");
		if (chroot(".") < 0)
			return wren_err_errno(err, errno, "chroot");
		if (chdir("/") < 0)
			return wren_err_errno(err, errno, "chdir /");
		return 0;
	}
	oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	newroot = open(spec->root_path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0 || newroot < 0)
		return wren_err_errno(err, errno, "open / or the rootfs");
	/* pivot_root(".", "."): the old root ends up stacked under the new one, then goes */
	if (fchdir(newroot) < 0)
		return wren_err_errno(err, errno, "chdir to the rootfs");
	if (rt_sys_pivot_root(".", ".") < 0)
		return wren_err_errno(err, errno, "pivot_root");
	if (fchdir(oldroot) < 0)
		return wren_err_errno(err, errno, "chdir to the old root");
	/* slave first, so the detach does not propagate to the host */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return wren_err_errno(err, errno, "make the old root slave");
	if (umount2(".", MNT_DETACH) < 0)
		return wren_err_errno(err, errno, "unmount the old root");
	if (chdir("/") < 0)
		return wren_err_errno(err, errno, "chdir /");
	return 0;
}

static int open_after_pivot(const char *path, int *fd, struct wren_err **err)
{
	*fd = rt_sys_openat2(AT_FDCWD, path, O_PATH | O_CLOEXEC, 0, RESOLVE_NO_MAGICLINKS);
	if (*fd >= 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return wren_err_errno(err, errno, "open %s", path);
}

static int readonly_path(const char *path, struct wren_err **err)
{
	_cleanup_close_ int fd = -1, top = -1;
	char p[FD_PATH_MAX];
	int r = open_after_pivot(path, &fd, err);

	if (r <= 0)
		return r;
	fd_path(p, fd);
	if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
		return wren_err_errno(err, errno, "bind readonly path %s", path);
	if (open_after_pivot(path, &top, err) <= 0)
		return wren_err_wrap(err, "readonly path %s", path);
	if (bind_remount(top, MS_RDONLY) < 0)
		return wren_err_errno(err, errno, "remount readonly path %s", path);
	return 0;
}

static int masked_path(const char *path, struct wren_err **err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	char p[FD_PATH_MAX];
	int r = open_after_pivot(path, &fd, err);

	if (r <= 0)
		return r;
	if (fstat(fd, &st) < 0)
		return wren_err_errno(err, errno, "stat masked path %s", path);
	fd_path(p, fd);
	if (S_ISDIR(st.st_mode))
		r = mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL);
	else
		r = mount("/dev/null", p, NULL, MS_BIND, NULL);
	if (r < 0)
		return wren_err_errno(err, errno, "mask %s", path);
	return 0;
}

int rt_rootfs_finalize(const struct rt_spec *spec, struct wren_err **err)
{
	unsigned long prop = propagation_flags(spec->rootfs_propagation);

	if (prop && mount(NULL, "/", NULL, prop, NULL) < 0)
		return wren_err_errno(err, errno, "set rootfs propagation %s",
				      spec->rootfs_propagation);
	for (size_t i = 0; i < spec->n_readonly_paths; i++)
		if (readonly_path(spec->readonly_paths[i], err) < 0)
			return -1;
	for (size_t i = 0; i < spec->n_masked_paths; i++)
		if (masked_path(spec->masked_paths[i], err) < 0)
			return -1;
	if (spec->root_readonly) {
		_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root < 0 || bind_remount(root, MS_RDONLY) < 0)
			return wren_err_errno(err, errno, "remount the root read-only");
	}
	return 0;
}
