/* Process stdio: see io.h. Every open here is non-blocking: a FIFO opened for reading first,
 * with O_NONBLOCK, lets the write open succeed at once whether or not the client has opened its
 * end yet. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/util.h"
#include "shim/io.h"

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

int shim_io_open(struct shim_io *io, const char *in, const char *out, const char *err,
		 bool terminal, struct wren_err **e)
{
	const char *p;

	*io = (struct shim_io)SHIM_IO_INIT;
	if (out && (p = strip_scheme(out, "file://"))) {
		if (open_log_file(p, &io->child[1], &io->child[2], e) < 0)
			goto fail;
	} else if (out && strip_scheme(out, "binary://")) {
		wren_err_code(e, WREN_E_UNIMPLEMENTED,
			      "stdio %s: binary:// logging is not supported by wren yet", out);
		goto fail;
	} else if (out && strstr(out, "://") && !strip_scheme(out, "fifo://")) {
		wren_err_code(e, WREN_E_INVALID_ARGUMENT, "%s: unknown STDIO scheme", out);
		goto fail;
	} else {
		if (out && *out) {
			const char *path = strip_scheme(out, "fifo://") ?: out;
			if (open_out_fifo(path, &io->child[1], &io->keep[1], e) < 0)
				goto fail;
		}
		if (err && *err && !terminal) {
			const char *path = strip_scheme(err, "fifo://") ?: err;
			if (open_out_fifo(path, &io->child[2], &io->keep[2], e) < 0)
				goto fail;
		}
	}
	if (in && *in) {
		const char *path = strip_scheme(in, "fifo://") ?: in;
		if (open_in_fifo(path, &io->child[0], &io->keep[0], e) < 0)
			goto fail;
	}
	return 0;
fail:
	shim_io_close(io);
	return -1;
}

void shim_io_release_child(struct shim_io *io)
{
	for (int i = 0; i < 3; i++)
		closep(&io->child[i]);
}

void shim_io_close_stdin(struct shim_io *io)
{
	closep(&io->keep[0]);
}

void shim_io_close(struct shim_io *io)
{
	for (int i = 0; i < 3; i++) {
		closep(&io->child[i]);
		closep(&io->keep[i]);
	}
}
