/* binary:// logging drivers (shim-protocol.md §6.5): a program of the user's that reads the
 * process's stdout on its fd 3 and stderr on its fd 4, and says it is ready by writing a byte to
 * (or closing) its fd 5. The process writes straight into the pipes: no copy in the shim.
 *
 * Separate from io.c because it is the one place where the daemon starts a program that is not
 * a container process, and that program has a life of its own: it must be ready before the
 * process starts (an epoll source and a timeout, never a blocking read), and it is stopped with
 * SIGTERM, then SIGKILL after 12 s, after its process is gone (a timer and a pidfd, so that the
 * record of the process can go at once). */
#ifndef WREN_SHIM_LOGGER_H
#define WREN_SHIM_LOGGER_H

#include <stdbool.h>

#include "runtime/err.h"
#include "ttrpc/loop.h"

struct shim_logger;

/* err is NULL when the logger is ready; else it is the reason (borrowed for the call). */
typedef void (*shim_logger_ready_fn)(void *ud, const struct wren_err *err);

/* Start the logger that uri names, with CONTAINER_ID=id and CONTAINER_NAMESPACE=ns in its
 * environment. *out_w and *err_w are the pipes' write ends for the process (O_CLOEXEC). */
int shim_logger_start(struct ttrpc_loop *l, const char *uri, const char *id, const char *ns,
		      int *out_w, int *err_w, struct shim_logger **out, struct wren_err **err);
/* true if the logger has already said it is ready. Otherwise cb is called once, when it does, or
 * with an error when it does not within 30 s; shim_logger_stop before that cancels the call. */
bool shim_logger_when_ready(struct shim_logger *lg, shim_logger_ready_fn cb, void *ud);
/* The process is gone: SIGTERM the logger now, SIGKILL in 12 s if it is still there. The logger
 * frees itself once it has exited. NULL is a no-op. */
void shim_logger_stop(struct shim_logger *lg);

/* The command line of a binary:// URI: argv[0] = its path, then each query key and its value
 * (percent-decoded; a key given twice counts once, as in Go's url.Values). NULL-terminated,
 * every string and the array malloc'd; free with shim_logger_argv_free. */
int shim_logger_argv(const char *uri, char ***argv, struct wren_err **err);
void shim_logger_argv_free(char **argv);

#endif
