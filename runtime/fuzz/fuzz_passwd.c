/* libFuzzer target: the image's /etc/passwd as the init and an exec's child read it for HOME,
 * as root and before their execve (rt_raw_passwd_home_fd). The image chooses every byte of that
 * file, and the reader works in a fixed buffer without libc, so beyond the sanitizers' findings
 * the answer is checked against a plain reading of the whole file held in memory: the first line
 * that fits in the buffer with its newline, has seven fields, a decimal uid equal to the one asked
 * for and a home, gives the home; a longer line is skipped.
 *
 * Input layout: byte 0 sets the buffer's size (2 to 201 bytes, so that lines longer than the
 * buffer are common), byte 1 the uid (below 250 as it is, else one of wide_uids), and the rest is
 * the file's content. hack/fuzz.sh builds and runs this target. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/proc_raw.h"

static const uid_t wide_uids[] = {1000, 4242, 65534, 100000, 4294967294u, 4294967295u};

/* The uid field's value equals uid: digits only, leading zeros allowed, at most 10 that count. */
static int uid_is(const char *s, uid_t uid)
{
	if (*s == 0 || strspn(s, "0123456789") != strlen(s))
		return 0;
	s += strspn(s, "0");
	return strlen(s) <= 10 && strtoull(s, NULL, 10) == (unsigned long long)uid;
}

/* name:password:uid:gid:gecos:home:shell, the shell field taking the rest of the line */
static char *line_home(char *line, uid_t uid)
{
	char *field[7];
	size_t nf = 0;
	char *p = line;

	for (;;) {
		field[nf++] = p;
		if (nf == 7)
			break;
		p = strchr(p, ':');
		if (p == NULL)
			return NULL;
		*p++ = 0;
	}
	return uid_is(field[2], uid) && field[5][0] ? field[5] : NULL;
}

static char *expected(const uint8_t *d, size_t n, uid_t uid, size_t size)
{
	size_t i = 0;

	while (i < n) {
		const uint8_t *nl = memchr(d + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (d + i)) : n - i;

		if (len + 2 <= size) {
			char *line =
			    strndup((const char *)d + i, len); /* up to a NUL, as C reads it */
			char *home = line_home(line, uid);
			char *r = home ? strdup(home) : NULL;

			free(line);
			if (r)
				return r;
		}
		i += len + 1;
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	static int fd = -1;
	size_t size;
	uid_t uid;
	char *buf, *want;
	const char *got;

	if (n < 2)
		return 0;
	size = 2 + data[0] % 200;
	uid = data[1] < 250 ? data[1] : wide_uids[data[1] - 250];
	data += 2;
	n -= 2;
	if (fd < 0)
		fd = memfd_create("passwd", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) < 0 || pwrite(fd, data, n, 0) != (ssize_t)n ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		perror("memfd");
		abort();
	}
	buf = malloc(size);
	got = rt_raw_passwd_home_fd(fd, uid, buf, size);
	want = expected(data, n, uid, size);
	if (got &&
	    (got < buf || got >= buf + size || !memchr(got, 0, (size_t)(buf + size - got)))) {
		fprintf(stderr, "home not a string inside the buffer\n");
		abort();
	}
	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0)) {
		fprintf(stderr, "uid %u, buffer %zu: home \"%s\", expected \"%s\"\n", (unsigned)uid,
			size, got ? got : "(none)", want ? want : "(none)");
		abort();
	}
	free(want);
	free(buf);
	return 0;
}
