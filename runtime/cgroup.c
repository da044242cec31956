/* A container's cgroup through cgroupfs, by plain file operations: why not libcgroup.
 *
 * The daemon lives as long as its containers and does cgroup work for all of that life (Update,
 * Pause, kill all, removal). Initialising libcgroup costs ~800 kB of resident memory (its static
 * mount tables), three times everything else the idle daemon holds (architecture.md §6); crun,
 * runc and youki all drive cgroupfs directly instead, and so does wren. This file picks the
 * backend (cgroup_v1.c for v1/hybrid hosts like this one, cgroup_v2.c for pure v2 hosts), checks
 * paths, and holds the cgroupfs helpers both backends share. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include "runtime/cgroup.h"
#include "runtime/cgroup_fs.h"
#include "runtime/cgroup_systemd.h"
#include "runtime/runtime.h"
#include "runtime/util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* ---- cgroupfs helpers -------------------------------------------------------------------- */

int64_t rt_cgfs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rt_cgfs_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int rt_cgfs_dir_open(struct rt_cgfs_dir *d)
{
	d->fd = open(d->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return d->fd < 0 ? -1 : 0;
}

void rt_cgfs_dir_close(struct rt_cgfs_dir *d)
{
	closep(&d->fd);
}

int rt_cgfs_open_at(const struct rt_cgfs_dir *d, const char *file, int flags)
{
	_cleanup_free_ char *p = NULL;

	if (d->fd >= 0)
		return openat(d->fd, file, flags | O_CLOEXEC);
	p = xstrjoin(d->path, "/", file, NULL);
	return open(p, flags | O_CLOEXEC);
}

int rt_cgfs_write_at(const struct rt_cgfs_dir *d, const char *file, const char *val,
		     struct wren_err **err)
{
	_cleanup_close_ int fd = rt_cgfs_open_at(d, file, O_WRONLY | O_TRUNC);

	if (fd < 0 || write_all(fd, val, strlen(val)) < 0)
		return wren_err_errno(err, errno, "cgroup: write %s/%s = \"%s\"", d->path, file,
				      val);
	return 0;
}

/* The kernel formats a cgroupfs or procfs file record by record into each read, as many whole
 * records as fit, so a read that comes back short with room for another record to spare has
 * reached the end: no second read(2) just to see it return 0. cgroup.procs' records (a pid and a
 * newline) are the longest the callers read this way that are not the whole file. */
#define RECORD_ROOM 64

int rt_cgfs_read_fd(int fd, size_t max, char **out, size_t *len)
{
	return read_fd(fd, max, RECORD_ROOM, out, len);
}

int rt_cgfs_read_at(const struct rt_cgfs_dir *d, const char *file, char **out)
{
	_cleanup_close_ int fd = rt_cgfs_open_at(d, file, O_RDONLY);
	size_t len = 0;

	if (fd < 0 || rt_cgfs_read_fd(fd, 1 << 20, out, &len) < 0)
		return -1;
	while (len > 0 && (*out)[len - 1] == '\n')
		(*out)[--len] = '\0';
	return 0;
}

bool rt_cgfs_exists_at(const struct rt_cgfs_dir *d, const char *file)
{
	_cleanup_free_ char *p = NULL;

	if (d->fd >= 0)
		return faccessat(d->fd, file, F_OK, 0) == 0;
	p = xstrjoin(d->path, "/", file, NULL);
	return access(p, F_OK) == 0;
}

int rt_cgfs_write(const char *dir, const char *file, const char *val, struct wren_err **err)
{
	return rt_cgfs_write_at(&RT_CGFS_DIR(dir), file, val, err);
}

int rt_cgfs_read(const char *dir, const char *file, char **out)
{
	return rt_cgfs_read_at(&RT_CGFS_DIR(dir), file, out);
}

bool rt_cgfs_exists(const char *dir, const char *file)
{
	return rt_cgfs_exists_at(&RT_CGFS_DIR(dir), file);
}

static int read_procs(const char *dir, pid_t **out, size_t *n, size_t *cap)
{
	_cleanup_free_ char *p = xstrjoin(dir, "/cgroup.procs", NULL);
	_cleanup_free_ char *buf = NULL;

	if (read_file(p, 64 << 20, &buf, NULL) < 0)
		return -1;
	for (char *s = buf, *end; *s;) {
		long v = strtol(s, &end, 10);

		if (end == s)
			break;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*out = xrealloc(*out, *cap * sizeof(pid_t));
		}
		(*out)[(*n)++] = (pid_t)v;
		s = end;
		while (*s == '\n')
			s++;
	}
	return 0;
}

/* A container may make cgroups of its own below its cgroup (with a cgroup namespace and write
 * access): their processes are the container's too. */
static int collect_pids(const char *dir, pid_t **out, size_t *n, size_t *cap, int depth)
{
	DIR *d;
	struct dirent *de;

	if (read_procs(dir, out, n, cap) < 0)
		return -1;
	if (depth > 32)
		return 0;
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		_cleanup_free_ char *sub = NULL;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = xstrjoin(dir, "/", de->d_name, NULL);
		if (collect_pids(sub, out, n, cap, depth + 1) < 0 && errno != ENOENT) {
			int e = errno;
			closedir(d);
			errno = e;
			return -1;
		}
	}
	closedir(d);
	return 0;
}

int rt_cgfs_pids(const char *dir, pid_t **out, size_t *n, struct wren_err **err)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (collect_pids(dir, out, n, &cap, 0) < 0) {
		int e = errno;
		free(*out);
		*out = NULL;
		*n = 0;
		return wren_err_errno(err, e, "cgroup: read %s/cgroup.procs", dir);
	}
	return 0;
}

int rt_cgfs_signal_pids(const pid_t *pids, size_t n, int sig, struct wren_err **err)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] > 0 && kill(pids[i], sig) < 0 && errno != ESRCH)
			return wren_err_errno(err, errno, "cgroup: kill %d", (int)pids[i]);
	return 0;
}

int rt_cgfs_wait_empty(const char *dir, struct wren_err **err)
{
	int64_t deadline = rt_cgfs_now_ms() + RT_CGROUP_WAIT_MS;

	for (;;) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n = 0;

		if (rt_cgfs_pids(dir, &pids, &n, NULL) < 0 || n == 0)
			return 0; /* gone, or empty */
		if (rt_cgfs_now_ms() >= deadline)
			return wren_err_code(err, WREN_E_UNKNOWN,
					     "cgroup %s: %zu processes still there after %d ms",
					     dir, n, RT_CGROUP_WAIT_MS);
		rt_cgfs_sleep_ms(10);
	}
}

/* Children first, but only listed when the rmdir says there are any: almost every cgroup removed
 * is a container's own, without sub-cgroups, and reading a directory costs four syscalls. */
static int rmdir_tree(const char *dir, int64_t deadline, int depth)
{
	DIR *d;
	struct dirent *de;

	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	if (errno != EBUSY && errno != ENOTEMPTY)
		return -1;
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while (depth < 32 && (de = readdir(d)) != NULL) {
		_cleanup_free_ char *sub = NULL;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = xstrjoin(dir, "/", de->d_name, NULL);
		if (rmdir_tree(sub, deadline, depth + 1) < 0) {
			int e = errno;
			closedir(d);
			errno = e;
			return -1;
		}
	}
	closedir(d);
	/* A cgroup whose last task just exited can still be busy for a moment. */
	while (rmdir(dir) < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno != EBUSY || rt_cgfs_now_ms() >= deadline)
			return -1;
		rt_cgfs_sleep_ms(10);
	}
	return 0;
}

int rt_cgfs_rmdir_tree(const char *dir, struct wren_err **err)
{
	if (rmdir_tree(dir, rt_cgfs_now_ms() + RT_CGROUP_WAIT_MS, 0) < 0)
		return wren_err_errno(err, errno, "cgroup: remove %s", dir);
	return 0;
}

static void record_made(const char *dir, char ***made, size_t *n_made)
{
	*made = xrealloc(*made, (*n_made + 1) * sizeof(char *));
	(*made)[(*n_made)++] = xstrdup(dir);
}

int rt_cgfs_mkdir_levels(const char *root, const char *path, char ***made, size_t *n_made,
			 int (*level)(const char *dir, bool made, bool is_leaf, void *arg,
				      struct wren_err **err),
			 void *arg, struct wren_err **err)
{
	_cleanup_free_ char *full = xstrjoin(root, path, NULL);
	size_t rl = strlen(root);

	/* With nothing to do per level, the leaf alone first: its parents exist for every container
	 * but a namespace's first, and each mkdir that finds one there is a syscall for nothing (9
	 * per create on a v1 host). */
	if (level == NULL) {
		if (mkdir(full, 0755) == 0) {
			record_made(full, made, n_made);
			return 0;
		}
		if (errno == EEXIST)
			return 0;
		if (errno != ENOENT)
			return wren_err_errno(err, errno, "cgroup: mkdir %s", full);
	}
	/* Walk "/a/b/c" as root/a, root/a/b, root/a/b/c. */
	for (char *s = full + rl + 1;; s++) {
		bool leaf = *s == '\0', fresh;

		if (*s != '/' && !leaf)
			continue;
		*s = '\0';
		fresh = mkdir(full, 0755) == 0;
		if (fresh) {
			record_made(full, made, n_made);
		} else if (errno != EEXIST) {
			return wren_err_errno(err, errno, "cgroup: mkdir %s", full);
		}
		if (level != NULL && level(full, fresh, leaf, arg, err) < 0)
			return -1;
		if (leaf)
			return 0;
		*s = '/';
	}
}

void rt_cgfs_undo_mkdirs(char **made, size_t n_made)
{
	for (size_t i = n_made; i-- > 0;) {
		rmdir(made[i]);
		free(made[i]);
	}
	free(made);
}

/* ---- paths ------------------------------------------------------------------------------- */

/* systemd's "slice:prefix:name" form of cgroupsPath. */
static bool is_systemd_path(const char *p)
{
	return p[0] != '/' && strchr(p, ':') != NULL;
}

char *rt_cgroup_path_for(const struct rt_spec *spec, const char *id)
{
	const char *p = spec ? spec->cgroups_path : NULL;

	if (p == NULL || p[0] == '\0')
		return xstrjoin("/wren/", id, NULL);
	if (p[0] == '/' || is_systemd_path(p))
		return xstrdup(p);
	return xstrjoin("/", p, NULL);
}

/* "/a//b/" → "/a/b". Refuses the root itself and "." or ".." components: a cgroup path names a
 * cgroup below the root and must not climb out of the hierarchy. */
static int normalise_path(const char *path, char **out, struct wren_err **err)
{
	size_t len = strlen(path);
	char *n = xmalloc(len + 1), *w = n;

	if (is_systemd_path(path)) {
		free(n);
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
				     "cgroup path \"%s\": \"slice:prefix:name\" needs the systemd "
				     "cgroup driver (SystemdCgroup = true)",
				     path);
	}
	if (path[0] != '/')
		goto bad;
	for (const char *s = path; *s;) {
		const char *e;

		while (*s == '/')
			s++;
		if (*s == '\0')
			break;
		e = strchrnul(s, '/');
		if ((e - s == 1 && s[0] == '.') || (e - s == 2 && s[0] == '.' && s[1] == '.'))
			goto bad;
		*w++ = '/';
		memcpy(w, s, (size_t)(e - s));
		w += e - s;
		s = e;
	}
	*w = '\0';
	if (w == n)
		goto bad;
	*out = n;
	return 0;
bad:
	free(n);
	return wren_err_code(
	    err, WREN_E_INVALID_ARGUMENT,
	    "cgroup path \"%s\": must be absolute, below the root, without . or ..", path);
}

/* ---- dispatch ---------------------------------------------------------------------------- */

/* Asked on every cgroup create and open, and by the OOM watch: a statfs each time. How a host
 * mounts its cgroups does not change while a process lives (cgroup_v1.c keeps the hierarchies for
 * the same reason), so the answer is kept: a host fact, not daemon state. */
enum rt_cgroup_mode rt_cgroup_host_mode(void)
{
	static int mode = -1;
	struct statfs fs;

	if (mode < 0)
		mode = statfs(RT_CGROUP2_ROOT, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC
			   ? RT_CGROUP_V2
			   : RT_CGROUP_V1;
	return (enum rt_cgroup_mode)mode;
}

static struct rt_cgroup *cgroup_new(const char *path, struct wren_err **err)
{
	struct rt_cgroup *cg;
	char *norm = NULL;

	if (normalise_path(path, &norm, err) < 0)
		return NULL;
	cg = xzalloc(sizeof(*cg));
	cg->mode = rt_cgroup_host_mode();
	cg->path = norm;
	cg->dirfd = -1;
	return cg;
}

int rt_cgroup_create(const char *path, const struct rt_resources *res, struct rt_cgroup **out,
		     struct wren_err **err)
{
	static const struct rt_resources none;
	struct rt_cgroup *cg = cgroup_new(path, err);
	int r;

	*out = NULL;
	if (cg == NULL)
		return -1;
	if (res == NULL)
		res = &none;
	r = cg->mode == RT_CGROUP_V2 ? rt_cg2_create(cg, res, err) : rt_cg1_create(cg, res, err);
	if (r < 0) {
		rt_cgroup_free(cg);
		return -1;
	}
	*out = cg;
	return 0;
}

int rt_cgroup_open(const char *path, struct rt_cgroup **out, struct wren_err **err)
{
	struct rt_cgroup *cg = cgroup_new(path, err);
	int r;

	*out = NULL;
	if (cg == NULL)
		return -1;
	r = cg->mode == RT_CGROUP_V2 ? rt_cg2_open(cg, err) : rt_cg1_open(cg, err);
	if (r < 0) {
		rt_cgroup_free(cg);
		return -1;
	}
	*out = cg;
	return 0;
}

const char *rt_cgroup_path(const struct rt_cgroup *cg)
{
	return cg->path;
}

int rt_cgroup_dirfd(const struct rt_cgroup *cg)
{
	return cg->mode == RT_CGROUP_V2 ? cg->dirfd : -1;
}

int rt_cgroup_attach(const struct rt_cgroup *cg, pid_t pid, struct wren_err **err)
{
	return cg->mode == RT_CGROUP_V2 ? rt_cg2_attach(cg, pid, err) : rt_cg1_attach(cg, pid, err);
}

int rt_cgroup_update(const struct rt_cgroup *cg, const struct rt_resources *res,
		     struct wren_err **err)
{
	return cg->mode == RT_CGROUP_V2 ? rt_cg2_update(cg, res, err) : rt_cg1_update(cg, res, err);
}

int rt_cgroup_pids(const struct rt_cgroup *cg, pid_t **out, size_t *n, struct wren_err **err)
{
	return cg->mode == RT_CGROUP_V2 ? rt_cg2_pids(cg, out, n, err)
					: rt_cg1_pids(cg, out, n, err);
}

int rt_cgroup_kill(const struct rt_cgroup *cg, int sig, struct wren_err **err)
{
	return cg->mode == RT_CGROUP_V2 ? rt_cg2_kill(cg, sig, err) : rt_cg1_kill(cg, sig, err);
}

int rt_cgroup_freeze(const struct rt_cgroup *cg, bool frozen, struct wren_err **err)
{
	return cg->mode == RT_CGROUP_V2 ? rt_cg2_freeze(cg, frozen, err)
					: rt_cg1_freeze(cg, frozen, err);
}

int rt_cgroup_destroy(struct rt_cgroup *cg, struct wren_err **err)
{
	int r = cg->mode == RT_CGROUP_V2 ? rt_cg2_destroy(cg, err) : rt_cg1_destroy(cg, err);

	if (r == 0 && cg->systemd_unit != NULL) {
		if (rt_systemd_stop_unit(cg->systemd_unit, err) < 0)
			return -1;
		free(steal_ptr(&cg->systemd_unit)); /* destroy stays idempotent */
	}
	return r;
}

void rt_cgroup_free(struct rt_cgroup *cg)
{
	if (cg == NULL)
		return;
	for (size_t i = 0; i < cg->n_dirs; i++) {
		free(cg->dirs[i]);
		free(cg->ctrls[i]);
		closep(&cg->procs_fds[i]);
		if (cg->join_fds)
			closep(&cg->join_fds[i]);
	}
	free(cg->procs_fds);
	free(cg->join_fds);
	free(cg->dirs);
	free(cg->ctrls);
	free(cg->dir);
	free(cg->systemd_unit);
	closep(&cg->dirfd);
	free(cg->path);
	free(cg);
}

int rt_cgroup_cleanup(const char *path, struct wren_err **err)
{
	struct wren_err *e = NULL;
	struct rt_cgroup *cg = NULL;
	int r;

	if (rt_systemd_is_path(path))
		return rt_systemd_cgroup_cleanup(path, err);
	if (rt_cgroup_open(path, &cg, &e) < 0) {
		if (e->code == WREN_E_NOT_FOUND) {
			wren_err_free(e);
			return 0;
		}
		wren_err_move(err, &e);
		return -1;
	}
	r = rt_cgroup_destroy(cg, err);
	rt_cgroup_free(cg);
	return r;
}
