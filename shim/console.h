/* A process's terminal (shim-protocol.md §6.3). For an exec the shim opens a pty pair in the
 * container's /dev/pts; the process gets the slave as its fds 0, 1 and 2 (runtime/ makes it the
 * controlling terminal), and the shim keeps the master. A container init makes its own terminal in
 * its new devpts and binds it onto /dev/console, as runc's init does; its master comes back over
 * the sync socket, and the shim attaches it here.
 *
 * Unlike plain FIFOs (io.h), a terminal needs a copier in the shim: the client's FIFOs are not
 * terminals, and only the master can resize the terminal or hang it up. The copy runs in the
 * daemon's loop, both ways, through bounded buffers: a full buffer stops reading the side that
 * fills it, so a client that stops reading blocks the container's writes, never the shim. */
#ifndef WREN_SHIM_CONSOLE_H
#define WREN_SHIM_CONSOLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/err.h"
#include "ttrpc/loop.h"

struct shim_console;

struct shim_console_config {
	int in;	   /* read from, copied to the master (the stdin FIFO); -1: none */
	int out;   /* the master's output is copied here (FIFO, file or logger pipe); -1: dropped */
	uid_t uid; /* host owner of the slave: the process's user ((uid_t)-1: leave it) */
	pid_t devpts_of; /* open the pair in this process's /dev/pts (an exec's container); 0: the
			    host's */
	uint16_t rows, cols; /* initial window size; 0: left as the kernel makes it */
};

/* Open the pair and start copying. Takes ownership of cfg->in and cfg->out, also on failure.
 * *slave is the process's end (O_CLOEXEC; the caller passes it on and closes it). With slave
 * NULL no pair is opened: the process makes its terminal itself (a container init, in its own
 * /dev/pts: runtime/rootfs_console.c) and the copy starts at shim_console_attach(). */
int shim_console_open(struct ttrpc_loop *l, const struct shim_console_config *cfg,
		      struct shim_console **out, int *slave, struct wren_err **err);
/* The master of the process's terminal (taken, also on failure): the initial size is set on it and
 * the copy starts. */
int shim_console_attach(struct shim_console *c, int master, struct wren_err **err);
/* The input to copy to the master, when it comes later than the console (an exec's stdin, opened
 * at its Start). Takes ownership of in. */
void shim_console_set_input(struct shim_console *c, int in);
/* TIOCSWINSZ on the master. A console whose terminal is already gone ignores it. */
int shim_console_resize(struct shim_console *c, uint16_t rows, uint16_t cols,
			struct wren_err **err);
/* Bytes the process wrote to its terminal that have not reached the output yet: still in the
 * terminal, or read from it and waiting for the output to take them. 0 once the copy is over.
 * NULL: 0. It copies what it can first, so that output still in flight in the kernel (written
 * right before an exit) is counted. */
size_t shim_console_unread(struct shim_console *c);
/* Stop copying and close everything, whatever is still buffered. NULL is a no-op. */
void shim_console_free(struct shim_console *c);

#endif
