/* The error chain: see err.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/err.h"
#include "runtime/util.h"

static int set_v(struct wren_err **err, int errnum, int code, const char *fmt, va_list ap)
{
	char *m = NULL;

	if (err == NULL || *err != NULL)
		return -1;
	if (vasprintf(&m, fmt, ap) < 0)
		abort();
	if (errnum != 0) {
		char *full = xasprintf("%s: %s", m, strerror(errnum));
		free(m);
		m = full;
	}
	*err = xmalloc(sizeof(**err));
	(*err)->errnum = errnum;
	(*err)->code = code;
	(*err)->msg = m;
	return -1;
}

int wren_err_errno(struct wren_err **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	int code = WREN_E_UNKNOWN;

	if (errnum == ENOENT)
		code = WREN_E_NOT_FOUND;
	else if (errnum == EEXIST)
		code = WREN_E_ALREADY_EXISTS;
	else if (errnum == EINVAL)
		code = WREN_E_INVALID_ARGUMENT;
	va_start(ap, fmt);
	set_v(err, errnum, code, fmt, ap);
	va_end(ap);
	return -1;
}

int wren_err_code(struct wren_err **err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_v(err, 0, code, fmt, ap);
	va_end(ap);
	return -1;
}

int wren_err_wrap(struct wren_err **err, const char *fmt, ...)
{
	va_list ap;
	char *ctx = NULL, *full;

	if (err == NULL || *err == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0)
		abort();
	va_end(ap);
	full = xasprintf("%s: %s", ctx, (*err)->msg);
	free(ctx);
	free((*err)->msg);
	(*err)->msg = full;
	return -1;
}

void wren_err_free(struct wren_err *e)
{
	if (e == NULL)
		return;
	free(e->msg);
	free(e);
}

void wren_err_move(struct wren_err **to, struct wren_err **from)
{
	if (to != NULL && *to == NULL) {
		*to = *from;
	} else {
		wren_err_free(*from);
	}
	*from = NULL;
}
