/* Small helpers shared by runtime/ and shim/: aborting allocation (a shim cannot recover from ENOMEM,
 * and checking every malloc hides the real errors), cleanup attributes (one owner, one release path)
 * and EINTR-safe I/O. ttrpc/ has its own, so that it depends on nothing of ours. */
#ifndef WREN_UTIL_H
#define WREN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* s and the strings after it up to a NULL, concatenated: how paths are built where it counts, at
 * an eighth of what xasprintf("%s/%s", ...) costs. */
char *xstrjoin(const char *s, ...) __attribute__((sentinel));

static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_free_	 __attribute__((cleanup(freep)))
#define _cleanup_close_	 __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))

static inline int steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}
#define steal_ptr(pp)                                                                              \
	({                                                                                         \
		__typeof__(*(pp)) _p = *(pp);                                                      \
		*(pp) = NULL;                                                                      \
		_p;                                                                                \
	})

/* write/read all of buf, retrying on EINTR and short transfers; -1 with errno on failure. */
ssize_t write_all(int fd, const void *buf, size_t n);
ssize_t read_all(int fd, void *buf, size_t n);
/* Read a whole file (at most max bytes) into a NUL-terminated buffer; -1 with errno. */
int read_file(const char *path, size_t max, char **out, size_t *len);
/* Read fd to its end into a malloc'd, NUL-terminated buffer (at most max bytes, else EFBIG).
 * eof_room: a read that leaves at least this much room is taken as the end, for procfs and
 * cgroupfs files the kernel hands out whole; 0: read until read(2) says 0. */
int read_fd(int fd, size_t max, size_t eof_room, char **out, size_t *len);
/* Write a whole string to a file (O_WRONLY|O_TRUNC|O_CLOEXEC, created 0644 if create); -1 with errno. */
int write_file(const char *path, const char *data, size_t len, bool create);
/* mkdir -p with mode; -1 with errno. */
int mkdir_p(const char *path, mode_t mode);

#endif
