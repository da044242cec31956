/* ttrpc server: accepts connections on a listening unix socket, decodes Requests, dispatches
 * them by service and method to registered handlers, and writes their Responses, which may be
 * deferred and may go out in any order. */
#ifndef TTRPC_SERVER_H
#define TTRPC_SERVER_H

#include "ttrpc/loop.h"
#include "ttrpc/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ttrpc_server;
struct ttrpc_call; /* one request in flight; valid until replied */
typedef void (*ttrpc_handler_fn)(struct ttrpc_call *call, void *ud);

/* Takes ownership of listen_fd (a listening unix socket; made non-blocking and CLOEXEC here), or
 * -1 for a server that only serves connections handed to it with ttrpc_server_add_conn.
 * -errno on failure (fd closed). */
int ttrpc_server_new(struct ttrpc_loop *l, int listen_fd, struct ttrpc_server **out);
/* Closes the listener and every connection; pending calls become orphans (a later reply just
 * frees them). Safe from inside a handler. */
void ttrpc_server_free(struct ttrpc_server *s);
/* -EEXIST if that service/method is registered already. Strings are copied. */
int ttrpc_server_register(struct ttrpc_server *s, const char *service, const char *method,
			  ttrpc_handler_fn fn, void *ud);
/* SO_PEERCRED uid/gid must equal our euid/egid, else the connection is closed (default on). */
void ttrpc_server_set_peer_check(struct ttrpc_server *s, bool same_uid);
/* Serve an already connected stream socket (takes fd; made non-blocking, CLOEXEC). No peer check.
 * -errno on failure (fd closed). */
int ttrpc_server_add_conn(struct ttrpc_server *s, int fd);
/* Stop accepting and reading; close each connection once its queued output is written (for
 * Shutdown: the reply must reach containerd before we exit). The closing happens from the loop,
 * so replying just before or just after calling this, in the same callback, both deliver. */
void ttrpc_server_shutdown(struct ttrpc_server *s);
bool ttrpc_server_flushed(const struct ttrpc_server *s); /* no connection has unsent output */
size_t ttrpc_server_n_conns(const struct ttrpc_server *s);

const char *ttrpc_call_service(const struct ttrpc_call *c);
const char *ttrpc_call_method(const struct ttrpc_call *c);
/* Never NULL (an empty payload gives a pointer to zero bytes). */
const uint8_t *ttrpc_call_payload(const struct ttrpc_call *c, size_t *len);
int64_t ttrpc_call_timeout_nano(const struct ttrpc_call *c);
const char *ttrpc_call_metadata(const struct ttrpc_call *c, const char *key); /* first or NULL */
uint32_t ttrpc_call_stream_id(const struct ttrpc_call *c);
bool ttrpc_call_conn_alive(const struct ttrpc_call *c);
/* For a deferred call: when its connection closes (peer gone, error, shutdown sweep), fn runs
 * from the loop and must release the call (any reply: it is an orphan by then, so nothing is
 * written). Without it a deferred call stays queued until its holder replies. Not run by
 * ttrpc_server_free. fn NULL clears it. */
typedef void (*ttrpc_cancel_fn)(struct ttrpc_call *call, void *ud);
void ttrpc_call_on_cancel(struct ttrpc_call *c, ttrpc_cancel_fn fn, void *ud);

/* Exactly one of these, once, per call (now or later: deferred replies). Each frees the call. */
/* Success: Response{payload}, status absent; an empty payload gives a zero-length frame. A reply
 * over 4 MiB is replaced by RESOURCE_EXHAUSTED. */
void ttrpc_call_reply(struct ttrpc_call *c, const uint8_t *payload, size_t len);
/* Response{status{code, msg}}, no payload. */
void ttrpc_call_reply_error(struct ttrpc_call *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
