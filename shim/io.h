/* A process's stdio as containerd hands it over (shim-protocol.md §6.1): FIFO paths the client
 * created, file:// URIs, binary:// logging drivers, or nothing; with or without a terminal.
 *
 * Without a terminal, wren gives the container the FIFO (or file, or the logger's pipe) itself as
 * its fd 0/1/2 instead of a pipe that the shim would copy from: no copy loop, no shim CPU or
 * memory per byte, and output written right before an exit cannot be lost in a copier. The shim
 * keeps what runc-v2 keeps for the same reasons: a read handle on stdout/stderr FIFOs (so the
 * container's writes block rather than fail with EPIPE while the client reconnects) and a write
 * handle on the stdin FIFO (so the container does not see EOF until CloseIO).
 *
 * With a terminal the process gets a pty slave instead, and console.c copies between the master
 * and the same endpoints. This file opens the endpoints; logger.c runs binary:// loggers. */
#ifndef WREN_SHIM_IO_H
#define WREN_SHIM_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/err.h"
#include "ttrpc/loop.h"

struct shim_console;
struct shim_logger;

struct shim_io {
	int child[3]; /* what the process gets as 0, 1, 2 (-1: /dev/null) */
	int keep[3];  /* the shim's own handles: stdin writer, stdout/stderr readers */
	struct shim_console *console; /* terminal=true */
	struct shim_logger *logger;   /* binary:// */
	char *stdin_later;	      /* an exec's stdin FIFO, opened at its Start */
	bool stdin_closed;	      /* CloseIO came before that */
};

#define SHIM_IO_INIT                                                                               \
	{                                                                                          \
		{-1, -1, -1}, {-1, -1, -1}, NULL, NULL, NULL, false                                \
	}

struct shim_io_config {
	const char *stdin_path, *stdout_path, *stderr_path; /* as in the request; "" = none */
	bool terminal;
	uid_t uid; /* the process's user on the host: owner of its terminal ((uid_t)-1: unmapped) */
	pid_t devpts_of; /* an exec's container init: its terminal comes from that /dev/pts; 0 (an
			    init): the process makes it, see shim_io_attach_console */
	uint16_t rows, cols; /* the terminal's initial size (the spec's consoleSize); 0: unknown */
	const char *id, *ns; /* a binary:// logger's CONTAINER_ID and CONTAINER_NAMESPACE */
	struct ttrpc_loop *loop;
	/* An exec's stdin is opened at its Start, as runc-v2 opens all of an exec's stdio: ctr
	 * exec sends CloseIO at stdin EOF only if its Exec call has returned by then, and it
	 * cannot write (so cannot reach EOF) before the shim opens the FIFO. */
	bool defer_stdin;
};

int shim_io_open(struct shim_io *io, const struct shim_io_config *cfg, struct wren_err **e);
/* A container init's terminal master (runtime: rt_container_take_console), taken also on
 * failure: the copy between it and the endpoints starts. */
int shim_io_attach_console(struct shim_io *io, int master, struct wren_err **e);
/* Open a deferred stdin (no-op without one): for the process, or for its terminal. */
int shim_io_open_stdin(struct shim_io *io, struct wren_err **e);
/* A binary:// logger must be ready before the process may start. true: ready now (or no
 * logger). false: cb(ud, NULL) follows when it is, cb(ud, error) when it cannot be; closing the
 * io before that cancels the call. */
typedef void (*shim_io_ready_fn)(void *ud, const struct wren_err *err);
bool shim_io_when_ready(struct shim_io *io, shim_io_ready_fn cb, void *ud);
/* ResizePty: the terminal's new size; a no-op without a terminal. */
int shim_io_resize(struct shim_io *io, uint16_t rows, uint16_t cols, struct wren_err **e);
/* After the process has its copies: drop the shim's copies of the child's ends. */
void shim_io_release_child(struct shim_io *io);
/* CloseIO: drop the shim's stdin writer so the process sees EOF once the client closes too. */
void shim_io_close_stdin(struct shim_io *io);
/* Output the process wrote that its client has not read yet: what is left in the stdout and
 * stderr FIFOs (the shim keeps a reader of each, so the kernel can count it), and, with a
 * terminal, what the copy has not delivered yet (it copies what it can first). */
size_t shim_io_unread(struct shim_io *io);
/* Everything: fds, the terminal (its copy stops), the logger (stopped: SIGTERM, then SIGKILL). */
void shim_io_close(struct shim_io *io);

#endif
