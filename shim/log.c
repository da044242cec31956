/* logfmt lines on fd 2: see log.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shim/log.h"

static struct {
	const char *ns, *id;
	bool debug;
	unsigned long dropped;
} lg = {.ns = "", .id = ""};

void shim_log_init(const char *ns, const char *id, bool debug)
{
	lg.ns = ns ? ns : "";
	lg.id = id ? id : "";
	lg.debug = debug;
}

/* Quote a message the way logrus does: backslash before " and \, newlines as \n. */
static size_t quote(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	for (; *src && n + 3 < cap; src++) {
		if (*src == '"' || *src == '\\') {
			dst[n++] = '\\';
			dst[n++] = *src;
		} else if (*src == '\n') {
			dst[n++] = '\\';
			dst[n++] = 'n';
		} else {
			dst[n++] = *src;
		}
	}
	dst[n] = 0;
	return n;
}

void shim_log(enum shim_log_level lvl, const char *fmt, ...)
{
	static const char *names[] = {"error", "warning", "info", "debug"};
	char msg[2048], q[4096], line[4608], ts[64];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (lvl == SHIM_LOG_DEBUG && !lg.debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	quote(q, sizeof(q), msg);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line),
		     "time=\"%s.%09ldZ\" level=%s msg=\"%s\" id=%s namespace=%s runtime=wren\n", ts,
		     now.tv_nsec, names[lvl], q, lg.id, lg.ns);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line))
		n = sizeof(line);
	if (write(STDERR_FILENO, line, (size_t)n) != n)
		lg.dropped++;
}
