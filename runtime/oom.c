/* OOM notifications of one cgroup (see oom.h). The daemon watches the fd in its epoll loop; this
 * file only sets the notification up and says how many OOM events came. No libcgroup (see the top
 * of cgroup.c): two cgroupfs files and an eventfd or an inotify fd. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cgroup_stats.h"
#include "runtime/oom.h"
#include "runtime/util.h"

struct rt_oom_watch {
	enum rt_cgroup_mode mode;
	int fd;		    /* v1 eventfd, v2 inotify */
	char *dir;	    /* the memory cgroup directory */
	uint64_t oom_kills; /* v2: memory.events oom_kill when last read */
};

static struct rt_oom_watch *watch_new(enum rt_cgroup_mode mode, const char *dir)
{
	struct rt_oom_watch *w = xzalloc(sizeof(*w));

	w->mode = mode;
	w->fd = -1;
	w->dir = xstrdup(dir);
	return w;
}

/* memory.events' oom_kill; -1 with errno if the file cannot be read (cgroup gone). */
static int read_oom_kills(const char *dir, uint64_t *out)
{
	_cleanup_free_ char *path = xstrjoin(dir, "/memory.events", NULL);
	_cleanup_free_ char *buf = NULL;
	const char *p;

	if (read_file(path, 1 << 16, &buf, NULL) < 0)
		return -1;
	*out = 0;
	for (p = buf; p != NULL && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, "oom_kill ", 9) == 0) {
			*out = strtoull(p + 9, NULL, 10);
			break;
		}
	}
	return 0;
}

int rt_oom_watch_open_v1(const char *dir, struct rt_oom_watch **out, struct wren_err **err)
{
	_cleanup_free_ char *ctl = xstrjoin(dir, "/memory.oom_control", NULL);
	_cleanup_close_ int efd = -1, cfd = -1;
	char line[32];
	struct rt_oom_watch *w;

	*out = NULL;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return wren_err_errno(err, errno, "oom watch: eventfd");
	cfd = open(ctl, O_RDONLY | O_CLOEXEC);
	if (cfd < 0)
		return wren_err_errno(err, errno, "oom watch: open %s", ctl);
	/* "<eventfd> <control file fd>": the kernel takes its own references; the control file's
	 * fd is needed only for this write. */
	snprintf(line, sizeof(line), "%d %d", efd, cfd);
	_cleanup_free_ char *ec = xstrjoin(dir, "/cgroup.event_control", NULL);
	if (write_file(ec, line, strlen(line), false) < 0)
		return wren_err_errno(err, errno, "oom watch: write %s", ec);
	w = watch_new(RT_CGROUP_V1, dir);
	w->fd = steal_fd(&efd);
	*out = w;
	return 0;
}

int rt_oom_watch_open_v2(const char *dir, struct rt_oom_watch **out, struct wren_err **err)
{
	_cleanup_free_ char *events = xstrjoin(dir, "/memory.events", NULL);
	_cleanup_close_ int ifd = -1;
	struct rt_oom_watch *w;
	uint64_t kills = 0;

	*out = NULL;
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ifd < 0)
		return wren_err_errno(err, errno, "oom watch: inotify_init1");
	if (inotify_add_watch(ifd, events, IN_MODIFY) < 0)
		return wren_err_errno(err, errno, "oom watch: watch %s", events);
	if (read_oom_kills(dir, &kills) < 0)
		return wren_err_errno(err, errno, "oom watch: read %s", events);
	w = watch_new(RT_CGROUP_V2, dir);
	w->fd = steal_fd(&ifd);
	w->oom_kills = kills;
	*out = w;
	return 0;
}

int rt_oom_watch_open(const struct rt_cgroup *cg, struct rt_oom_watch **out, struct wren_err **err)
{
	const char *dir = rt_cgroup_memory_dir(cg);

	*out = NULL;
	if (dir == NULL)
		return wren_err_code(err, WREN_E_FAILED_PRECONDITION,
				     "oom watch: the memory controller is not mounted");
	if (rt_cgroup_host_mode() == RT_CGROUP_V2)
		return rt_oom_watch_open_v2(dir, out, err);
	return rt_oom_watch_open_v1(dir, out, err);
}

int rt_oom_watch_fd(const struct rt_oom_watch *w)
{
	return w->fd;
}

static bool dir_gone(const char *dir)
{
	struct stat st;

	return stat(dir, &st) < 0 && errno == ENOENT;
}

int rt_oom_watch_read(struct rt_oom_watch *w, uint64_t *events, struct wren_err **err)
{
	*events = 0;
	if (w->mode == RT_CGROUP_V1) {
		uint64_t n;
		ssize_t r;

		while ((r = read(w->fd, &n, sizeof(n))) < 0 && errno == EINTR)
			;
		if (r < 0) {
			if (errno == EAGAIN)
				return 0;
			return wren_err_errno(err, errno, "oom watch: read eventfd of %s", w->dir);
		}
		/* The kernel also signals the eventfd when the cgroup is removed: not an OOM. */
		if (r == sizeof(n) && !dir_gone(w->dir))
			*events = n;
		return 0;
	}
	/* v2: the inotify events only say "memory.events changed"; the count says whether an
	 * OOM kill is among the changes. */
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	uint64_t kills;

	for (;;) {
		ssize_t r = read(w->fd, buf, sizeof(buf));

		if (r > 0 || (r < 0 && errno == EINTR))
			continue;
		break;
	}
	if (read_oom_kills(w->dir, &kills) < 0)
		return 0; /* the cgroup is gone */
	if (kills > w->oom_kills)
		*events = kills - w->oom_kills;
	w->oom_kills = kills;
	return 0;
}

void rt_oom_watch_free(struct rt_oom_watch *w)
{
	if (w == NULL)
		return;
	closep(&w->fd);
	free(w->dir);
	free(w);
}
