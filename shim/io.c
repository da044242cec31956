/* Process stdio: see io.h. This file opens the endpoints (FIFOs, files, a logger's pipes) and
 * decides who gets them: the process itself, or the terminal's copier (console.c). Every open
 * here is non-blocking: a FIFO opened for reading first, with O_NONBLOCK, lets the write open
 * succeed at once whether or not the client has opened its end yet. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/util.h"
#include "shim/console.h"
#include "shim/io.h"
#include "shim/logger.h"

static int clear_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return -1;
	return 0;
}

/* A FIFO for the process to write to: keep a reader, give the process a blocking writer. */
static int open_out_fifo(const char *path, int *child, int *keep, struct wren_err **e)
{
	_cleanup_close_ int r = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	_cleanup_close_ int w = -1;

	if (r < 0)
		return wren_err_errno(e, errno, "open %s", path);
	w = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (w < 0 || clear_nonblock(w) < 0)
		return wren_err_errno(e, errno, "open %s for writing", path);
	*child = steal_fd(&w);
	*keep = steal_fd(&r);
	return 0;
}

/* The stdin FIFO: give the process a blocking reader, keep a writer. */
static int open_in_fifo(const char *path, int *child, int *keep, struct wren_err **e)
{
	_cleanup_close_ int r = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	_cleanup_close_ int w = -1;

	if (r < 0)
		return wren_err_errno(e, errno, "open %s", path);
	w = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (w < 0 || clear_nonblock(r) < 0)
		return wren_err_errno(e, errno, "open %s for writing", path);
	*child = steal_fd(&r);
	*keep = steal_fd(&w);
	return 0;
}

/* file:///path: stdout and stderr appended to one file, its directory created. */
static int open_log_file(const char *path, int *out, int *errfd, struct wren_err **e)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int fd;

	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir_p(dir, 0755) < 0)
			return wren_err_errno(e, errno, "mkdir %s", dir);
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return wren_err_errno(e, errno, "open %s", path);
	*out = fd;
	*errfd = dup(fd);
	if (*errfd < 0)
		return wren_err_errno(e, errno, "dup");
	fcntl(*errfd, F_SETFD, FD_CLOEXEC);
	return 0;
}

static const char *strip_scheme(const char *uri, const char *scheme)
{
	size_t n = strlen(scheme);
	return strncmp(uri, scheme, n) == 0 ? uri + n : NULL;
}

/* The endpoints before anyone owns them: what the process reads and where it writes. */
struct ends {
	int in, out, err;
};

static void close_ends(struct ends *x)
{
	closep(&x->in);
	closep(&x->out);
	closep(&x->err);
}

static int open_ends(struct shim_io *io, const struct shim_io_config *cfg, struct ends *x,
		     struct wren_err **e)
{
	const char *out = cfg->stdout_path, *err = cfg->stderr_path, *in = cfg->stdin_path;
	const char *p;

	/* only stdout's scheme counts: clients give stderr the same URI */
	if (out && (p = strip_scheme(out, "file://"))) {
		if (open_log_file(p, &x->out, &x->err, e) < 0)
			return -1;
	} else if (out && strip_scheme(out, "binary://")) {
		if (shim_logger_start(cfg->loop, out, cfg->id, cfg->ns, &x->out, &x->err,
				      &io->logger, e) < 0)
			return -1;
	} else if (out && strstr(out, "://") && !strip_scheme(out, "fifo://")) {
		return wren_err_code(e, WREN_E_INVALID_ARGUMENT, "%s: unknown STDIO scheme", out);
	} else {
		if (out && *out) {
			const char *path = strip_scheme(out, "fifo://") ?: out;
			if (open_out_fifo(path, &x->out, &io->keep[1], e) < 0)
				return -1;
		}
		if (err && *err && !cfg->terminal) {
			const char *path = strip_scheme(err, "fifo://") ?: err;
			if (open_out_fifo(path, &x->err, &io->keep[2], e) < 0)
				return -1;
		}
	}
	if (in && *in && cfg->defer_stdin) {
		io->stdin_later = xstrdup(strip_scheme(in, "fifo://") ?: in);
	} else if (in && *in) {
		const char *path = strip_scheme(in, "fifo://") ?: in;
		if (open_in_fifo(path, &x->in, &io->keep[0], e) < 0)
			return -1;
	}
	return 0;
}

/* A terminal: the process gets the slave three times; the copier gets the endpoints. stderr is
 * unused (all output goes through the one terminal). An init makes its terminal itself: it gets
 * /dev/null until then, and its master comes to shim_io_attach_console(). */
static int open_console(struct shim_io *io, const struct shim_io_config *cfg, struct ends *x,
			struct wren_err **e)
{
	struct shim_console_config cc = {
	    .in = steal_fd(&x->in),
	    .out = steal_fd(&x->out),
	    .uid = cfg->uid,
	    .devpts_of = cfg->devpts_of,
	    .rows = cfg->rows,
	    .cols = cfg->cols,
	};
	bool own = cfg->devpts_of == 0;
	int slave = -1;

	closep(&x->err);
	if (shim_console_open(cfg->loop, &cc, &io->console, own ? NULL : &slave, e) < 0)
		return -1;
	if (own)
		return 0;
	io->child[0] = slave;
	io->child[1] = fcntl(slave, F_DUPFD_CLOEXEC, 0);
	io->child[2] = fcntl(slave, F_DUPFD_CLOEXEC, 0);
	if (io->child[1] < 0 || io->child[2] < 0)
		return wren_err_errno(e, errno, "dup the pty slave");
	return 0;
}

int shim_io_attach_console(struct shim_io *io, int master, struct wren_err **e)
{
	if (master < 0)
		return wren_err_code(e, WREN_E_UNKNOWN, "the container init made no terminal");
	if (!io->console) {
		close(master);
		return wren_err_code(e, WREN_E_UNKNOWN, "a terminal for a process without one");
	}
	return shim_console_attach(io->console, master, e);
}

int shim_io_open(struct shim_io *io, const struct shim_io_config *cfg, struct wren_err **e)
{
	struct ends x = {-1, -1, -1};

	*io = (struct shim_io)SHIM_IO_INIT;
	if (open_ends(io, cfg, &x, e) < 0)
		goto fail;
	if (cfg->terminal) {
		if (open_console(io, cfg, &x, e) < 0)
			goto fail;
		return 0;
	}
	io->child[0] = steal_fd(&x.in);
	io->child[1] = steal_fd(&x.out);
	io->child[2] = steal_fd(&x.err);
	return 0;
fail:
	close_ends(&x);
	shim_io_close(io);
	return -1;
}

int shim_io_open_stdin(struct shim_io *io, struct wren_err **e)
{
	_cleanup_free_ char *path = steal_ptr(&io->stdin_later);
	int r = -1;

	if (!path)
		return 0;
	if (open_in_fifo(path, &r, &io->keep[0], e) < 0)
		return -1;
	if (io->stdin_closed)
		closep(&io->keep[0]);
	if (io->console)
		shim_console_set_input(io->console, r);
	else
		io->child[0] = r;
	return 0;
}

bool shim_io_when_ready(struct shim_io *io, shim_io_ready_fn cb, void *ud)
{
	return !io->logger || shim_logger_when_ready(io->logger, cb, ud);
}

int shim_io_resize(struct shim_io *io, uint16_t rows, uint16_t cols, struct wren_err **e)
{
	if (!io->console)
		return 0;
	return shim_console_resize(io->console, rows, cols, e);
}

void shim_io_release_child(struct shim_io *io)
{
	for (int i = 0; i < 3; i++)
		closep(&io->child[i]);
}

void shim_io_close_stdin(struct shim_io *io)
{
	closep(&io->keep[0]);
	io->stdin_closed = true;
}

size_t shim_io_unread(struct shim_io *io)
{
	size_t total = shim_console_unread(io->console);

	for (int i = 1; i < 3; i++) {
		int n = 0;

		if (io->keep[i] >= 0 && ioctl(io->keep[i], FIONREAD, &n) == 0 && n > 0)
			total += (size_t)n;
	}
	return total;
}

void shim_io_close(struct shim_io *io)
{
	for (int i = 0; i < 3; i++) {
		closep(&io->child[i]);
		closep(&io->keep[i]);
	}
	free(steal_ptr(&io->stdin_later));
	shim_console_free(steal_ptr(&io->console));
	shim_logger_stop(steal_ptr(&io->logger));
}
