/* Private helpers of ttrpc/: aborting allocation and cleanup attributes. ttrpc/ depends on nothing
 * else of ours, so it carries its own, all static inline and ttrpc_-prefixed so that they never
 * clash with runtime/util.h in a program that links both. Not part of the public API. */
#ifndef TTRPC_UTIL_H
#define TTRPC_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((noreturn)) static inline void ttrpc_oom(void)
{
	static const char msg[] = "ttrpc: out of memory\n";
	ssize_t r = write(2, msg, sizeof(msg) - 1);
	(void)r;
	abort();
}

static inline void *ttrpc_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		ttrpc_oom();
	return p;
}

static inline void *ttrpc_xzalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		ttrpc_oom();
	return p;
}

static inline void *ttrpc_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		ttrpc_oom();
	return p;
}

static inline char *ttrpc_xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		ttrpc_oom();
	return p;
}

static inline char *ttrpc_xvasprintf(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		ttrpc_oom();
	return s;
}

static inline void ttrpc_freep(void *p)
{
	free(*(void **)p);
}

static inline void ttrpc_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

#define _ttrpc_cleanup_free_  __attribute__((cleanup(ttrpc_freep)))
#define _ttrpc_cleanup_close_ __attribute__((cleanup(ttrpc_closep)))

static inline int ttrpc_steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

/* O_NONBLOCK and FD_CLOEXEC on an fd handed to us (e.g. the listener inherited from the start
 * process): a blocking accept or read would stall the whole loop. 0 or -errno. */
static inline int ttrpc_fd_prepare(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0))
		return -errno;
	int fdf = fcntl(fd, F_GETFD);
	if (fdf < 0 || (!(fdf & FD_CLOEXEC) && fcntl(fd, F_SETFD, fdf | FD_CLOEXEC) < 0))
		return -errno;
	return 0;
}

#endif
