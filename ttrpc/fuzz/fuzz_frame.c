/* libFuzzer target: arbitrary bytes through the frame decoder, then as a peer's byte stream into
 * a real server connection (Request decoding and dispatch, with immediate, error and deferred
 * replies) and into a client connection with calls pending (Response matching). Built and run by
 * hack/fuzz.sh. */
#include "ttrpc/ttrpc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_ROUNDS   200
#define MAX_DEFERRED 8

static struct ttrpc_call *deferred[MAX_DEFERRED];
static int n_deferred;

static void h_echo(struct ttrpc_call *c, void *ud)
{
	size_t n;
	const uint8_t *p = ttrpc_call_payload(c, &n);
	(void)ttrpc_call_metadata(c, "containerd-namespace-ttrpc");
	(void)ttrpc_call_timeout_nano(c);
	ttrpc_call_reply(c, p, n);
}

static void h_error(struct ttrpc_call *c, void *ud)
{
	ttrpc_call_reply_error(c, TTRPC_NOT_FOUND, "%s %s: not found", ttrpc_call_service(c),
			       ttrpc_call_method(c));
}

static void h_defer(struct ttrpc_call *c, void *ud)
{
	if (n_deferred < MAX_DEFERRED)
		deferred[n_deferred++] = c;
	else
		ttrpc_call_reply(c, NULL, 0);
}

static void drain(int fd)
{
	uint8_t b[65536];
	while (read(fd, b, sizeof(b)) > 0)
		;
}

/* Write all of data into fd while running the loop so that the other end keeps reading. */
static void feed(struct ttrpc_loop *l, int fd, const uint8_t *data, size_t size)
{
	int rounds = 0;
	while (size && rounds < MAX_ROUNDS) {
		ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				return; /* the other end closed */
			rounds++;
			ttrpc_loop_run_once(l, 0);
			drain(fd);
			continue;
		}
		data += n;
		size -= (size_t)n;
	}
	shutdown(fd, SHUT_WR);
}

static void fuzz_decoder(const uint8_t *data, size_t size)
{
	struct ttrpc_hdr h;
	while (size) {
		ssize_t n = ttrpc_frame_decode(data, size, &h);
		if (n <= 0)
			break;
		data += n;
		size -= (size_t)n;
	}
}

static void fuzz_server(const uint8_t *data, size_t size)
{
	struct ttrpc_loop *l;
	struct ttrpc_server *s;
	int sv[2];
	if (ttrpc_loop_new(&l) < 0)
		abort();
	if (ttrpc_server_new(l, -1, &s) < 0)
		abort();
	ttrpc_server_register(s, "svc", "Echo", h_echo, NULL);
	ttrpc_server_register(s, "svc", "Error", h_error, NULL);
	ttrpc_server_register(s, "svc", "Defer", h_defer, NULL);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (ttrpc_server_add_conn(s, sv[0]) < 0)
		abort();
	feed(l, sv[1], data, size);
	if (size && data[size - 1] & 1) /* the last byte picks a shutdown (Shutdown RPC path) */
		ttrpc_server_shutdown(s);
	/* Answer half of the deferred calls while the connection may still be up. */
	for (int i = 0; i < n_deferred; i += 2) {
		ttrpc_call_reply(deferred[i], (const uint8_t *)"late", 4);
		deferred[i] = NULL;
	}
	for (int i = 0; i < MAX_ROUNDS && ttrpc_server_n_conns(s); i++) {
		ttrpc_loop_run_once(l, 0);
		drain(sv[1]);
	}
	close(sv[1]);
	ttrpc_server_free(s);
	for (int i = 0; i < n_deferred; i++)
		if (deferred[i])
			ttrpc_call_reply_error(deferred[i], TTRPC_UNKNOWN,
					       "orphan"); /* no-op + free */
	n_deferred = 0;
	ttrpc_loop_free(l);
}

static int n_replies;
static bool client_freed;

static void reply_cb(void *ud, int code, const char *msg, const uint8_t *payload, size_t len)
{
	n_replies++;
	if (len && payload[0] == 0xff && !client_freed) { /* free from inside a callback */
		client_freed = true;
		ttrpc_client_free(*(struct ttrpc_client **)ud);
	}
}

static void fuzz_client(const uint8_t *data, size_t size)
{
	struct ttrpc_loop *l;
	struct ttrpc_client *c;
	int sv[2];
	if (ttrpc_loop_new(&l) < 0)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (ttrpc_client_new(l, sv[0], &c) < 0)
		abort();
	struct ttrpc_client *holder = c;
	for (int i = 0; i < 3; i++)
		ttrpc_client_call(c, "svc", "Echo", (const uint8_t *)"x", 1, 0, NULL, 0, reply_cb,
				  &holder);
	drain(sv[1]);
	feed(l, sv[1], data, size);
	for (int i = 0; i < MAX_ROUNDS && n_replies < 3; i++)
		ttrpc_loop_run_once(l, 0);
	if (!client_freed)
		ttrpc_client_free(c);
	client_freed = false;
	n_replies = 0;
	close(sv[1]);
	ttrpc_loop_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_decoder(data, size);
	fuzz_server(data, size);
	fuzz_client(data, size);
	return 0;
}
