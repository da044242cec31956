/* A process's stdio as containerd hands it over (shim-protocol.md §6.1): FIFO paths the client
 * created, file:// URIs, or nothing.
 *
 * wren gives the container the FIFO (or file) itself as its fd 0/1/2 instead of a pipe that the
 * shim would copy from: no copy loop, no shim CPU or memory per byte, and output written right
 * before an exit cannot be lost in a copier. The shim keeps what runc-v2 keeps for the same
 * reasons: a read handle on stdout/stderr FIFOs (so the container's writes block rather than
 * fail with EPIPE while the client reconnects) and a write handle on the stdin FIFO (so the
 * container does not see EOF until CloseIO). */
#ifndef WREN_SHIM_IO_H
#define WREN_SHIM_IO_H

#include <stdbool.h>

#include "runtime/err.h"

struct shim_io {
	int child[3];  /* what the process gets as 0, 1, 2 (-1: /dev/null) */
	int keep[3];   /* the shim's own handles: stdin writer, stdout/stderr readers */
};

#define SHIM_IO_INIT {{-1, -1, -1}, {-1, -1, -1}}

int shim_io_open(struct shim_io *io, const char *in, const char *out, const char *err,
		 bool terminal, struct wren_err **e);
/* After the process has its copies: drop the shim's copies of the child's ends. */
void shim_io_release_child(struct shim_io *io);
/* CloseIO: drop the shim's stdin writer so the process sees EOF once the client closes too. */
void shim_io_close_stdin(struct shim_io *io);
void shim_io_close(struct shim_io *io);

#endif
