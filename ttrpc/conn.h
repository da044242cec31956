/* Private to ttrpc/: one framed, non-blocking stream connection with an input buffer and an
 * output queue, shared by the server and the client. It owns the fd and its loop source.
 *
 * Reentrancy: the owner's callbacks may call ttrpc_conn_free on this very connection; the memory
 * is released once no callback of the connection is on the stack, and no further callback is made.
 * Write errors found while the owner is sending are reported later, from the loop, never from
 * inside the owner's own call. */
#ifndef TTRPC_CONN_H
#define TTRPC_CONN_H

#include "ttrpc/frame.h"
#include "ttrpc/loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Output queued beyond this stops reading input until it drains (backpressure on a peer that
 * pipelines requests but reads slowly). */
#define TTRPC_OUT_PAUSE (4u << 20)
/* Output queued beyond this (a peer that never reads) fails the connection with -ENOBUFS. */
#define TTRPC_OUT_MAX (16u << 20)

struct ttrpc_conn;

struct ttrpc_conn_ops {
	/* One whole frame; data (h->length bytes) is valid during the call only. With oversize the
	 * announced data (h->length > TTRPC_MAX_DATA) was read and thrown away; data is NULL. */
	void (*frame)(void *owner, const struct ttrpc_hdr *h, const uint8_t *data, bool oversize);
	/* The connection is lost: 0 for EOF, else -errno. Called once; the fd is already closed.
	 * The owner must still ttrpc_conn_free it (it may do so from here). */
	void (*closed)(void *owner, int err);
	/* Optional: the output queue became empty while the loop was writing it (EPOLLOUT). */
	void (*drained)(void *owner);
};

/* Takes fd (non-blocking). connecting: a non-blocking connect is in progress; output waits for
 * it. NULL and *err = -errno if the fd cannot be added to the loop (fd is then closed). */
struct ttrpc_conn *ttrpc_conn_new(struct ttrpc_loop *l, int fd, bool connecting,
				  const struct ttrpc_conn_ops *ops, void *owner, int *err);
void ttrpc_conn_free(struct ttrpc_conn *c);

/* Queue a frame with header h: returns where to put its h->length data bytes, then call
 * ttrpc_conn_flush. NULL when the connection is down or the queue would exceed TTRPC_OUT_MAX
 * (the connection then fails, reported later through ops->closed). */
uint8_t *ttrpc_conn_reserve(struct ttrpc_conn *c, const struct ttrpc_hdr *h);
void ttrpc_conn_flush(struct ttrpc_conn *c);

/* Stop (or resume) reading and dispatching input. */
void ttrpc_conn_set_reading(struct ttrpc_conn *c, bool on);
size_t ttrpc_conn_pending_out(const struct ttrpc_conn *c);
/* Not failed, not closed, not freed. */
bool ttrpc_conn_up(const struct ttrpc_conn *c);

#endif
