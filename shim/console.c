/* The pty of a process started with terminal=true: see console.h. runc-v2 does the same copy
 * with two goroutines per console (pkg/process/io.go copyConsole); here it is three epoll sources
 * of the daemon's one loop, so the shim still never blocks:
 *
 *   stdin FIFO ──in──▶ [to_master] ──▶ master ──▶ [to_out] ──out──▶ stdout FIFO / file / logger
 *
 * Each fd is watched only for what can make progress: the master for reading while to_out has
 * room and for writing while to_master holds data, the stdin FIFO while to_master has room, the
 * output while to_out holds data that did not fit at once.
 *
 * Ends, as runc-v2 has them:
 *   - stdin EOF (the client closed its end after CloseIO dropped the shim's writer): the terminal
 *     is hung up, i.e. the master closed, after what can be copied without waiting was copied;
 *   - the last slave closed (the process and every child holding the terminal have exited): the
 *     master reads EIO once what the process wrote is read; then the output is flushed and closed,
 *     which is the EOF that a client (ctr) waits for before it deletes the task. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/syscalls.h"
#include "runtime/util.h"
#include "shim/console.h"
#include "shim/log.h"

#define CONSOLE_BUF (32 * 1024)

struct buf {
	size_t off, len;
	char data[CONSOLE_BUF];
};

struct endpoint {
	struct ttrpc_source src;
	uint32_t watched; /* the events registered now; 0: not in the loop */
};

struct shim_console {
	struct ttrpc_loop *loop;
	struct endpoint master, in, out;
	bool done;	     /* everything closed; only free is left */
	uint64_t copied;     /* bytes the output took: a debug line at the end says how many */
	bool attached;	     /* the master came (it may be closed since) */
	uint16_t rows, cols; /* the initial size, set when the master comes */
	struct buf to_master, to_out;
};

static size_t room(const struct buf *b)
{
	return CONSOLE_BUF - b->off - b->len;
}

/* Make the free space contiguous before a read into b. */
static void compact(struct buf *b)
{
	if (b->len == 0)
		b->off = 0;
	else if (b->off > 0 && room(b) < CONSOLE_BUF / 2) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
}

static void consume(struct buf *b, size_t n)
{
	b->off += n;
	b->len -= n;
	if (b->len == 0)
		b->off = 0;
}

static void watch(struct shim_console *c, struct endpoint *e, uint32_t want)
{
	int r = 0;

	if (e->src.fd < 0)
		want = 0;
	if (want == e->watched)
		return;
	if (want == 0)
		ttrpc_loop_del(c->loop, &e->src);
	else if (e->watched == 0)
		r = ttrpc_loop_add(c->loop, &e->src, want);
	else
		r = ttrpc_loop_mod(c->loop, &e->src, want);
	if (r < 0) {
		/* only a regular file (file://) cannot be watched, and it never needs to be */
		log_warn("console: watch fd %d: %s", e->src.fd, strerror(-r));
		want = 0;
	}
	e->watched = want;
}

static void unwatch_close(struct shim_console *c, struct endpoint *e)
{
	watch(c, e, 0);
	closep(&e->src.fd);
}

static void update(struct shim_console *c)
{
	/* before the master comes, stdin waits in its FIFO: its EOF must not hang up a terminal
	 * that does not exist yet */
	if (c->done || !c->attached)
		return;
	watch(c, &c->master, (room(&c->to_out) ? EPOLLIN : 0) | (c->to_master.len ? EPOLLOUT : 0));
	watch(c, &c->in, room(&c->to_master) ? EPOLLIN : 0);
	watch(c, &c->out, c->to_out.len ? EPOLLOUT : 0);
}

/* Write what to_out holds without waiting. Output that cannot be delivered any more (the logger
 * died, the disk is full) is dropped, so that the process is never stuck on its terminal. */
static void flush_out(struct shim_console *c)
{
	while (c->to_out.len > 0) {
		ssize_t n;

		if (c->out.src.fd < 0) {
			consume(&c->to_out, c->to_out.len);
			break;
		}
		n = write(c->out.src.fd, c->to_out.data + c->to_out.off, c->to_out.len);
		if (n > 0) {
			consume(&c->to_out, (size_t)n);
			c->copied += (uint64_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			break;
		} else {
			log_warn("console: write output: %s; dropping the rest",
				 n < 0 ? strerror(errno) : "short write");
			unwatch_close(c, &c->out);
		}
	}
}

static void flush_master(struct shim_console *c)
{
	while (c->to_master.len > 0) {
		ssize_t n =
		    write(c->master.src.fd, c->to_master.data + c->to_master.off, c->to_master.len);

		if (n > 0)
			consume(&c->to_master, (size_t)n);
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && errno == EAGAIN)
			break;
		else /* EIO: no slave left to read it */
			consume(&c->to_master, c->to_master.len);
	}
}

/* Everything goes; the output's close is the client's EOF. */
static void finish(struct shim_console *c)
{
	if (!c->done)
		log_debug("console: %llu bytes copied to the output, %zu dropped at the end",
			  (unsigned long long)c->copied, c->to_out.len);
	unwatch_close(c, &c->in);
	unwatch_close(c, &c->master);
	unwatch_close(c, &c->out);
	c->done = true;
}

/* Read the master while to_out has room. Returns false once the terminal is gone (EIO: no slave
 * is open any more). */
static bool read_master(struct shim_console *c)
{
	for (;;) {
		ssize_t n;

		compact(&c->to_out);
		if (room(&c->to_out) == 0)
			return true;
		n = read(c->master.src.fd, c->to_out.data + c->to_out.off + c->to_out.len,
			 room(&c->to_out));
		if (n > 0) {
			c->to_out.len += (size_t)n;
			flush_out(c);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		return false; /* EIO (or 0): hung up */
	}
}

/* The terminal is gone (or hung up by us): deliver what was read, then close the output, once
 * the output has taken it. */
static void master_gone(struct shim_console *c)
{
	unwatch_close(c, &c->master);
	unwatch_close(c, &c->in);
	consume(&c->to_master, c->to_master.len);
	flush_out(c);
	if (c->to_out.len == 0)
		finish(c);
	else
		update(c);
}

static void on_master(struct ttrpc_source *src, uint32_t events)
{
	struct shim_console *c = ttrpc_container_of(src, struct shim_console, master.src);

	if (events & EPOLLOUT)
		flush_master(c);
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !read_master(c)) {
		master_gone(c);
		return;
	}
	update(c);
}

/* stdin EOF: hang up the terminal, as runc-v2 does (closing stdin ends an interactive session). */
static void hang_up(struct shim_console *c)
{
	flush_master(c);
	read_master(c); /* what the process wrote so far, as far as the output takes it now */
	master_gone(c);
}

static void on_in(struct ttrpc_source *src, uint32_t events)
{
	struct shim_console *c = ttrpc_container_of(src, struct shim_console, in.src);
	(void)events;

	for (;;) {
		ssize_t n;

		compact(&c->to_master);
		if (room(&c->to_master) == 0)
			break;
		n = read(src->fd, c->to_master.data + c->to_master.off + c->to_master.len,
			 room(&c->to_master));
		if (n > 0) {
			c->to_master.len += (size_t)n;
			flush_master(c);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		hang_up(c); /* EOF, or the FIFO broke */
		return;
	}
	update(c);
}

static void on_out(struct ttrpc_source *src, uint32_t events)
{
	struct shim_console *c = ttrpc_container_of(src, struct shim_console, out.src);

	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLOUT)) {
		log_warn("console: output closed by its reader; dropping the rest");
		unwatch_close(c, &c->out);
	}
	flush_out(c);
	if (c->master.src.fd < 0 && c->to_out.len == 0) {
		finish(c);
		return;
	}
	update(c);
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -1 : 0;
}

/* The slave of master: TIOCGPTPEER (Linux 4.13) opens it without a path lookup, so a rogue
 * /dev/pts cannot substitute it; ptsname where the kernel lacks it. */
static int open_slave(int master, struct wren_err **err)
{
	char name[64];
	int fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno != EINVAL && errno != ENOTTY)
		return wren_err_errno(err, errno, "open the pty slave");
	if (ptsname_r(master, name, sizeof(name)) != 0)
		return wren_err_errno(err, errno, "ptsname");
	fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return wren_err_errno(err, errno, "open %s", name);
	return fd;
}

#define PTMX_FLAGS (O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK)

/* The ptmx of the devpts instance mounted at /dev/pts in pid's root, so that the slave has a name
 * inside the container (tty(1), ttyname(3), reopening it as a non-root user), as with runc, whose
 * init opens /dev/ptmx in the container. Resolved with RESOLVE_IN_ROOT (the container's symlinks
 * cannot lead out) and checked to be a devpts ptmx. -1 if the container has none: the caller
 * falls back to the host's. */
static int open_container_ptmx(pid_t pid)
{
	char root[64];
	_cleanup_close_ int rootfd = -1, fd = -1;
	struct statfs sfs;
	struct stat st;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -1;
	fd = rt_sys_openat2(rootfd, "dev/pts/ptmx", PTMX_FLAGS, 0,
			    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (fd < 0 || fstatfs(fd, &sfs) < 0 || sfs.f_type != DEVPTS_SUPER_MAGIC ||
	    fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode))
		return -1;
	return steal_fd(&fd);
}

int shim_console_open(struct ttrpc_loop *l, const struct shim_console_config *cfg,
		      struct shim_console **out, int *slave, struct wren_err **err)
{
	_cleanup_close_ int in = cfg->in, outfd = cfg->out;
	_cleanup_close_ int m = -1, s = -1;
	struct shim_console *c;

	if ((in >= 0 && set_nonblock(in) < 0) || (outfd >= 0 && set_nonblock(outfd) < 0))
		return wren_err_errno(err, errno, "console stdio O_NONBLOCK");
	if (slave) {
		if (cfg->devpts_of > 0)
			m = open_container_ptmx(cfg->devpts_of);
		if (m < 0)
			m = open("/dev/ptmx", PTMX_FLAGS);
		if (m < 0)
			return wren_err_errno(err, errno, "open /dev/ptmx");
		if (unlockpt(m) < 0)
			return wren_err_errno(err, errno, "unlockpt");
		s = open_slave(m, err);
		if (s < 0)
			return -1;
		/* the process's user must be able to open its terminal again (by its name,
		 * /proc/self/fd/0); the group stays devpts' (tty), as runc leaves it */
		if (cfg->uid != (uid_t)-1 && fchown(s, cfg->uid, (gid_t)-1) < 0)
			return wren_err_errno(err, errno, "chown the pty slave to uid %u",
					      cfg->uid);
	}

	c = xzalloc(sizeof(*c));
	c->loop = l;
	c->rows = cfg->rows;
	c->cols = cfg->cols;
	c->master.src.fd = -1;
	c->master.src.cb = on_master;
	c->in.src.fd = steal_fd(&in);
	c->in.src.cb = on_in;
	c->out.src.fd = steal_fd(&outfd);
	c->out.src.cb = on_out;
	if (slave && shim_console_attach(c, steal_fd(&m), err) < 0) {
		shim_console_free(c);
		return -1;
	}
	*out = c;
	if (slave)
		*slave = steal_fd(&s);
	return 0;
}

int shim_console_attach(struct shim_console *c, int master, struct wren_err **err)
{
	_cleanup_close_ int m = master;

	if (c->done || c->attached)
		return wren_err_code(err, WREN_E_UNKNOWN, "the console has a terminal already");
	if (set_nonblock(m) < 0)
		return wren_err_errno(err, errno, "terminal O_NONBLOCK");
	if (c->rows && c->cols) {
		struct winsize ws = {.ws_row = c->rows, .ws_col = c->cols};
		if (ioctl(m, TIOCSWINSZ, &ws) < 0)
			return wren_err_errno(err, errno, "set the terminal size");
	}
	c->master.src.fd = steal_fd(&m);
	c->attached = true;
	update(c);
	return 0;
}

void shim_console_set_input(struct shim_console *c, int in)
{
	if (c->done || c->in.src.fd >= 0 || set_nonblock(in) < 0) {
		close(in);
		return;
	}
	c->in.src.fd = in;
	update(c);
}

int shim_console_resize(struct shim_console *c, uint16_t rows, uint16_t cols, struct wren_err **err)
{
	struct winsize ws = {.ws_row = rows, .ws_col = cols};

	if (c->master.src.fd < 0)
		return 0;
	if (ioctl(c->master.src.fd, TIOCSWINSZ, &ws) < 0)
		return wren_err_errno(err, errno, "resize the terminal to %ux%u", cols, rows);
	return 0;
}

size_t shim_console_unread(struct shim_console *c)
{
	int n = 0;

	if (!c || c->done)
		return 0;
	/* Read first. What the process wrote right before it exited may still be on its way from
	 * the slave (the kernel hands it to the master from a work item), and FIONREAD does not
	 * count it yet; a read of the master waits for that hand-over. */
	if (c->master.src.fd >= 0 && c->attached) {
		if (!read_master(c))
			master_gone(c);
		else
			update(c);
		if (c->done)
			return 0;
	}
	if (c->master.src.fd >= 0 && (ioctl(c->master.src.fd, FIONREAD, &n) < 0 || n < 0))
		n = 0;
	return c->to_out.len + (size_t)n;
}

void shim_console_free(struct shim_console *c)
{
	if (!c)
		return;
	if (!c->done)
		finish(c);
	free(c);
}
