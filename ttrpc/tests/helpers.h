/* Shared by the ttrpc unit tests: a raw peer on the other end of a socketpair that speaks frames
 * by hand, while the code under test runs on a real loop. Everything static: each test binary
 * includes this once. */
#ifndef TTRPC_TEST_HELPERS_H
#define TTRPC_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ttrpc/ttrpc.h"
#include "ttrpc.pb-c.h"

#define WAIT_MS 5000

static inline void sockpair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
}

/* Write all of buf to a non-blocking fd, running the loop while the peer catches up. */
static inline void raw_write(struct ttrpc_loop *l, int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t end = ttrpc_now_ns() + (uint64_t)WAIT_MS * 1000000;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			assert_true(errno == EAGAIN || errno == EINTR);
			assert_true(ttrpc_now_ns() < end);
			ttrpc_loop_run_once(l, 10);
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
}

static inline void raw_send_frame(struct ttrpc_loop *l, int fd, uint32_t id, uint8_t type,
				  const void *data, size_t len)
{
	size_t n;
	struct ttrpc_hdr h = {.stream_id = id, .type = type};
	uint8_t *b = ttrpc_frame_encode(&h, data, len, &n);
	raw_write(l, fd, b, n);
	free(b);
}

static inline uint8_t *pack_request(const char *service, const char *method, const void *payload,
				    size_t len, size_t *out_len)
{
	Ttrpc__Request req = TTRPC__REQUEST__INIT;
	req.service = (char *)service;
	req.method = (char *)method;
	req.payload.data = (uint8_t *)payload;
	req.payload.len = len;
	*out_len = ttrpc__request__get_packed_size(&req);
	uint8_t *b = malloc(*out_len + 1);
	ttrpc__request__pack(&req, b);
	return b;
}

static inline void raw_send_request(struct ttrpc_loop *l, int fd, uint32_t id, const char *service,
				    const char *method, const char *payload)
{
	size_t n;
	uint8_t *b = pack_request(service, method, payload, payload ? strlen(payload) : 0, &n);
	raw_send_frame(l, fd, id, TTRPC_TYPE_REQUEST, b, n);
	free(b);
}

/* A reader of frames on the raw end. */
struct raw_reader {
	uint8_t *buf;
	size_t len, cap;
	bool eof;
};

static inline void raw_reader_free(struct raw_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* Read what is available (non-blocking). */
static inline void raw_fill(struct raw_reader *r, int fd)
{
	for (;;) {
		if (r->cap - r->len < 65536) {
			r->cap = r->cap ? r->cap * 2 : 65536;
			r->buf = realloc(r->buf, r->cap);
		}
		ssize_t n = read(fd, r->buf + r->len, r->cap - r->len);
		if (n == 0) {
			r->eof = true;
			return;
		}
		if (n < 0)
			return;
		r->len += (size_t)n;
	}
}

/* Run the loop until a whole frame has arrived on fd; false on EOF or timeout.
 * *data is malloc'd (NULL when empty). */
static inline bool raw_recv_frame(struct ttrpc_loop *l, int fd, struct raw_reader *r,
				  struct ttrpc_hdr *h, uint8_t **data)
{
	uint64_t end = ttrpc_now_ns() + (uint64_t)WAIT_MS * 1000000;
	for (;;) {
		raw_fill(r, fd);
		ssize_t n = ttrpc_frame_decode(r->buf, r->len, h);
		assert_true(n >= 0);
		if (n > 0) {
			*data = NULL;
			if (h->length) {
				*data = malloc(h->length);
				memcpy(*data, r->buf + TTRPC_HDR_LEN, h->length);
			}
			memmove(r->buf, r->buf + n, r->len - (size_t)n);
			r->len -= (size_t)n;
			return true;
		}
		if (r->eof || ttrpc_now_ns() >= end)
			return false;
		ttrpc_loop_run_once(l, 10);
	}
}

/* A decoded Response frame. */
struct resp {
	uint32_t id;
	int code;
	char msg[256];
	uint8_t *payload;
	size_t len;
	size_t frame_len;
};

static inline bool raw_recv_response(struct ttrpc_loop *l, int fd, struct raw_reader *r,
				     struct resp *out)
{
	struct ttrpc_hdr h;
	uint8_t *data;
	memset(out, 0, sizeof(*out));
	if (!raw_recv_frame(l, fd, r, &h, &data))
		return false;
	assert_int_equal(h.type, TTRPC_TYPE_RESPONSE);
	Ttrpc__Response *resp = ttrpc__response__unpack(NULL, h.length, data);
	assert_non_null(resp);
	out->id = h.stream_id;
	out->frame_len = h.length;
	if (resp->status) {
		out->code = resp->status->code;
		snprintf(out->msg, sizeof(out->msg), "%s", resp->status->message);
	}
	if (resp->payload.len) {
		out->payload = malloc(resp->payload.len);
		memcpy(out->payload, resp->payload.data, resp->payload.len);
		out->len = resp->payload.len;
	}
	ttrpc__response__free_unpacked(resp, NULL);
	free(data);
	return true;
}

/* Run the loop until cond() or timeout. */
#define RUN_UNTIL(l, cond)                                                                         \
	do {                                                                                       \
		uint64_t _end = ttrpc_now_ns() + (uint64_t)WAIT_MS * 1000000;                      \
		while (!(cond)) {                                                                  \
			assert_true(ttrpc_now_ns() < _end);                                        \
			ttrpc_loop_run_once((l), 10);                                              \
		}                                                                                  \
	} while (0)

/* Run the loop for about ms milliseconds. */
static inline void run_for(struct ttrpc_loop *l, int ms)
{
	uint64_t end = ttrpc_now_ns() + (uint64_t)ms * 1000000;
	while (ttrpc_now_ns() < end)
		ttrpc_loop_run_once(l, 5);
}

#endif
