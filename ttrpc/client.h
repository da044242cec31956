/* ttrpc client: odd, strictly increasing stream ids per connection (1, 3, 5, …), responses
 * matched by stream id in any order. Used by the daemon for Events/Forward. */
#ifndef TTRPC_CLIENT_H
#define TTRPC_CLIENT_H

#include "ttrpc/loop.h"
#include "ttrpc/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ttrpc_client;

/* code 0 = OK (msg ""). On a transport failure (connection closed, pending calls when freed)
 * code = TTRPC_UNAVAILABLE and msg = "ttrpc: closed". A call whose timeout_nano passes without
 * an answer gets TTRPC_DEADLINE_EXCEEDED "context deadline exceeded". msg and payload are valid
 * during the callback only. The callback may call any client function, ttrpc_client_free too. */
typedef void (*ttrpc_reply_fn)(void *ud, int code, const char *msg, const uint8_t *payload,
			       size_t len);

struct ttrpc_kv {
	const char *key, *value;
};

/* Takes a connected socket fd (made non-blocking, CLOEXEC). -errno on failure (fd closed). */
int ttrpc_client_new(struct ttrpc_loop *l, int fd, struct ttrpc_client **out);
/* "unix:///path", "unix://path", "/path", or "@name" (abstract); non-blocking connect.
 * -errno (e.g. -ENOENT, -ECONNREFUSED) when the connect fails at once. */
int ttrpc_client_dial(struct ttrpc_loop *l, const char *address, struct ttrpc_client **out);
/* Called once when the connection is lost (after the pending callbacks got "ttrpc: closed");
 * not called by ttrpc_client_free. */
void ttrpc_client_on_close(struct ttrpc_client *c, void (*fn)(void *ud), void *ud);
/* Queue one request. timeout_nano > 0 is sent to the server and also bounds the wait here.
 * 0 when queued: cb will be called exactly once, never from inside this function.
 * -ENOTCONN if the client is closed, -EMSGSIZE if the request exceeds 4 MiB, -ENOBUFS if 16 MiB
 * are already queued unsent, -EOVERFLOW when the stream ids of this connection are used up: then
 * cb is never called (and the connection is still usable after -EMSGSIZE/-ENOBUFS). */
int ttrpc_client_call(struct ttrpc_client *c, const char *service, const char *method,
		      const uint8_t *payload, size_t len, int64_t timeout_nano,
		      const struct ttrpc_kv *md, size_t n_md, ttrpc_reply_fn cb, void *ud);
/* Pending callbacks get "ttrpc: closed" (from inside this call). Safe from inside a callback. */
void ttrpc_client_free(struct ttrpc_client *c);
bool ttrpc_client_closed(const struct ttrpc_client *c);
size_t ttrpc_client_n_pending(const struct ttrpc_client *c);

/* Blocking one-shot helper for tests and small tools (not for the daemon): runs a private loop to
 * connect, send one request and wait for its response. timeout_ms > 0 is sent as the request's
 * timeout and bounds the wait (then *code = TTRPC_DEADLINE_EXCEEDED); <= 0 waits as long as it
 * takes. 0 with *code, *msg (malloc'd, never NULL) and *resp (malloc'd, NULL when *resp_len is 0);
 * -errno when the connection cannot be made or the request cannot be sent. */
int ttrpc_call_sync(const char *address, const char *service, const char *method,
		    const uint8_t *payload, size_t len, int timeout_ms, int *code, char **msg,
		    uint8_t **resp, size_t *resp_len);

#endif
