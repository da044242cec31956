/* wren's error type (crun's model): a fallible function returns int (>= 0 ok, < 0 failed) and takes
 * `struct wren_err **err` last. The error carries an errno, a status code and a message chain that
 * callers extend with context, so the ctr user reads e.g.
 *   create: mount "proc" to rootfs/proc: permission denied
 * The codes are named after gRPC's (same numbers) because that is how containerd reads them; the
 * one mapping to a wire status lives in shim/. */
#ifndef WREN_ERR_H
#define WREN_ERR_H

#include <stdarg.h>

enum wren_code {
	WREN_E_UNKNOWN = 2,
	WREN_E_INVALID_ARGUMENT = 3,
	WREN_E_NOT_FOUND = 5,
	WREN_E_ALREADY_EXISTS = 6,
	WREN_E_FAILED_PRECONDITION = 9,
	WREN_E_UNIMPLEMENTED = 12,
	WREN_E_UNAVAILABLE = 14,
};

struct wren_err {
	int errnum; /* errno-style cause, 0 if none */
	int code;   /* enum wren_code */
	char *msg;  /* full chain, "outer: inner: strerror" */
};

/* Set *err (if err != NULL and *err == NULL) from errnum and a message; ": strerror(errnum)" is
 * appended when errnum != 0. Code is WREN_E_UNKNOWN. Always returns -1, so callers can
 * `return wren_err_errno(err, errno, "open %s", path);`. */
int wren_err_errno(struct wren_err **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same with an explicit code and no errno. */
int wren_err_code(struct wren_err **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix context: "ctx: previous message". Returns -1. A NULL err is ignored. */
int wren_err_wrap(struct wren_err **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void wren_err_free(struct wren_err *e);
/* Move *from into *to (if *to is empty), leaving *from NULL. */
void wren_err_move(struct wren_err **to, struct wren_err **from);

#define _cleanup_err_ __attribute__((cleanup(wren_err_freep)))
static inline void wren_err_freep(struct wren_err **e)
{
	wren_err_free(*e);
	*e = 0;
}

#endif
