/* A framed connection: read into one contiguous buffer and cut whole frames out of it with
 * ttrpc_frame_decode; queue whole frames for output and write them as the socket accepts. */
#include "ttrpc/conn.h"
#include "ttrpc/util.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK     (64u << 10)
#define READS_PER_WAKE 16 /* fairness between connections */
#define IN_KEEP	       (256u << 10)
#define OUT_KEEP       (1u << 20)

struct ttrpc_conn {
	struct ttrpc_source src;
	struct ttrpc_loop *loop;
	const struct ttrpc_conn_ops *ops;
	void *owner;

	uint8_t *in;
	size_t in_off, in_len, in_cap; /* unconsumed input is in[in_off..in_len) */
	uint64_t discard;	       /* bytes of an oversize frame still to throw away */
	struct ttrpc_hdr discard_hdr;

	uint8_t *out;
	size_t out_off, out_len, out_cap; /* unsent output is out[out_off..out_len) */

	uint32_t registered; /* events currently asked of epoll */
	bool reading, connecting, down, freed;
	int fail_err; /* a failure to report from the loop (kick timer) */
	int depth;    /* our callbacks on the stack */
	struct ttrpc_timer kick;
};

static bool conn_gone(const struct ttrpc_conn *c)
{
	return c->down || c->freed || c->fail_err;
}

static size_t out_pending(const struct ttrpc_conn *c)
{
	return c->out_len - c->out_off;
}

static bool out_paused(const struct ttrpc_conn *c)
{
	return out_pending(c) > TTRPC_OUT_PAUSE;
}

static bool in_pending(const struct ttrpc_conn *c)
{
	return c->in_len > c->in_off;
}

static void conn_release(struct ttrpc_conn *c)
{
	free(c->in);
	free(c->out);
	free(c);
}

static void conn_maybe_release(struct ttrpc_conn *c)
{
	if (c->freed && c->depth == 0)
		conn_release(c);
}

/* Close the fd and leave the loop; no more I/O. */
static void conn_down(struct ttrpc_conn *c)
{
	if (c->down)
		return;
	c->down = true;
	ttrpc_loop_del(c->loop, &c->src);
	close(c->src.fd);
	c->src.fd = -1;
	ttrpc_timer_cancel(c->loop, &c->kick);
}

/* Loop context only: report the loss to the owner. */
static void conn_fail(struct ttrpc_conn *c, int err)
{
	if (c->down || c->freed)
		return;
	conn_down(c);
	c->ops->closed(c->owner, err);
}

static void conn_fail_later(struct ttrpc_conn *c, int err)
{
	if (conn_gone(c))
		return;
	c->fail_err = err ? err : -EPIPE;
	ttrpc_timer_arm(c->loop, &c->kick, 0);
}

static void conn_update_events(struct ttrpc_conn *c)
{
	if (c->down || c->freed)
		return;
	uint32_t want = 0;
	if (c->reading && !out_paused(c) && !c->fail_err)
		want |= EPOLLIN;
	if ((out_pending(c) || c->connecting) && !c->fail_err)
		want |= EPOLLOUT;
	if (want == c->registered)
		return;
	if (ttrpc_loop_mod(c->loop, &c->src, want) == 0)
		c->registered = want;
	else
		conn_fail_later(c, -errno);
}

static void conn_process_input(struct ttrpc_conn *c)
{
	while (!conn_gone(c) && c->reading && !out_paused(c)) {
		size_t avail = c->in_len - c->in_off;
		if (c->discard) {
			size_t k = avail < c->discard ? avail : (size_t)c->discard;
			c->in_off += k;
			c->discard -= k;
			if (c->discard)
				break;
			c->ops->frame(c->owner, &c->discard_hdr, NULL, true);
			continue;
		}
		if (avail == 0)
			break;
		struct ttrpc_hdr h;
		ssize_t r = ttrpc_frame_decode(c->in + c->in_off, avail, &h);
		if (r == 0)
			break;
		if (r < 0) {
			/* Read and throw away the data as it comes, never buffering it. */
			c->discard_hdr = h;
			c->discard = h.length;
			c->in_off += TTRPC_HDR_LEN;
			continue;
		}
		const uint8_t *data = c->in + c->in_off + TTRPC_HDR_LEN;
		c->in_off += (size_t)r;
		c->ops->frame(c->owner, &h, data, false);
	}
	if (c->freed)
		return;
	if (c->in_off == c->in_len) {
		c->in_off = c->in_len = 0;
		if (c->in_cap > IN_KEEP) {
			free(c->in);
			c->in = NULL;
			c->in_cap = 0;
		}
	}
}

/* Room for at least READ_CHUNK more bytes at the end of the input buffer. */
static void conn_in_room(struct ttrpc_conn *c)
{
	if (c->in_off && c->in_cap - c->in_len < READ_CHUNK) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_cap - c->in_len < READ_CHUNK) {
		size_t cap = c->in_cap ? c->in_cap * 2 : READ_CHUNK;
		while (cap - c->in_len < READ_CHUNK)
			cap *= 2;
		c->in = ttrpc_xrealloc(c->in, cap);
		c->in_cap = cap;
	}
}

static void conn_read(struct ttrpc_conn *c)
{
	for (int i = 0; i < READS_PER_WAKE; i++) {
		if (conn_gone(c) || !c->reading || out_paused(c))
			return;
		conn_in_room(c);
		size_t room = c->in_cap - c->in_len;
		ssize_t n = read(c->src.fd, c->in + c->in_len, room);
		if (n == 0) {
			conn_fail(c, 0);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_fail(c, -errno);
			return;
		}
		c->in_len += (size_t)n;
		conn_process_input(c);
		/* A read that did not fill the room took all the socket had: no second read just to
		 * be told EAGAIN (one system call per message saved). The loop's epoll is
		 * level-triggered, so bytes that arrive meanwhile wake it again. */
		if ((size_t)n < room)
			return;
	}
}

/* 0, or -errno of a write failure. */
static int conn_write(struct ttrpc_conn *c)
{
	if (c->connecting)
		return 0;
	while (out_pending(c)) {
		ssize_t n = send(c->src.fd, c->out + c->out_off, out_pending(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == ENOTSOCK)
			n = write(c->src.fd, c->out + c->out_off, out_pending(c));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		c->out_off += (size_t)n;
	}
	if (!out_pending(c)) {
		c->out_off = c->out_len = 0;
		if (c->out_cap > OUT_KEEP) {
			free(c->out);
			c->out = NULL;
			c->out_cap = 0;
		}
	}
	return 0;
}

static void conn_kick_if_needed(struct ttrpc_conn *c)
{
	if (!conn_gone(c) && c->reading && !out_paused(c) && in_pending(c) &&
	    !ttrpc_timer_armed(&c->kick))
		ttrpc_timer_arm(c->loop, &c->kick, 0);
}

static void conn_cb(struct ttrpc_source *s, uint32_t events)
{
	struct ttrpc_conn *c = ttrpc_container_of(s, struct ttrpc_conn, src);
	c->depth++;
	if (c->connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (getsockopt(c->src.fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr) {
			conn_fail(c, -soerr);
			goto out;
		}
		c->connecting = false;
	}
	if (events & EPOLLOUT && out_pending(c)) {
		int r = conn_write(c);
		if (r < 0) {
			conn_fail(c, r);
			goto out;
		}
		if (!out_pending(c) && c->ops->drained) {
			c->ops->drained(c->owner);
			if (conn_gone(c))
				goto out;
		}
		if (!out_paused(c))
			conn_process_input(c); /* what waited while output was too large */
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (c->reading && !out_paused(c))
			conn_read(c);
		else if (events & (EPOLLHUP | EPOLLERR))
			conn_fail(c, -ECONNRESET);
	}
out:
	conn_update_events(c);
	c->depth--;
	conn_maybe_release(c);
}

static void conn_kick_cb(struct ttrpc_timer *t)
{
	struct ttrpc_conn *c = ttrpc_container_of(t, struct ttrpc_conn, kick);
	c->depth++;
	if (c->fail_err) {
		int err = c->fail_err;
		c->fail_err = 0;
		conn_fail(c, err);
	} else {
		conn_process_input(c);
		conn_update_events(c);
	}
	c->depth--;
	conn_maybe_release(c);
}

struct ttrpc_conn *ttrpc_conn_new(struct ttrpc_loop *l, int fd, bool connecting,
				  const struct ttrpc_conn_ops *ops, void *owner, int *err)
{
	struct ttrpc_conn *c = ttrpc_xzalloc(sizeof(*c));
	c->src.fd = fd;
	c->src.cb = conn_cb;
	c->loop = l;
	c->ops = ops;
	c->owner = owner;
	c->reading = true;
	c->connecting = connecting;
	c->kick.cb = conn_kick_cb;
	c->registered = EPOLLIN | (connecting ? EPOLLOUT : 0);
	int r = ttrpc_loop_add(l, &c->src, c->registered);
	if (r < 0) {
		close(fd);
		free(c);
		*err = r;
		return NULL;
	}
	return c;
}

void ttrpc_conn_free(struct ttrpc_conn *c)
{
	if (!c || c->freed)
		return;
	conn_down(c);
	c->freed = true;
	conn_maybe_release(c);
}

uint8_t *ttrpc_conn_reserve(struct ttrpc_conn *c, const struct ttrpc_hdr *h)
{
	if (conn_gone(c))
		return NULL;
	size_t total = TTRPC_HDR_LEN + (size_t)h->length;
	if (out_pending(c) + total > TTRPC_OUT_MAX) {
		conn_fail_later(c, -ENOBUFS);
		return NULL;
	}
	if (c->out_cap - c->out_len < total && c->out_off) {
		memmove(c->out, c->out + c->out_off, out_pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_cap - c->out_len < total) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap - c->out_len < total)
			cap *= 2;
		c->out = ttrpc_xrealloc(c->out, cap);
		c->out_cap = cap;
	}
	uint8_t *p = c->out + c->out_len;
	ttrpc_hdr_encode(p, h);
	c->out_len += total;
	return p + TTRPC_HDR_LEN;
}

void ttrpc_conn_flush(struct ttrpc_conn *c)
{
	if (conn_gone(c))
		return;
	int r = conn_write(c);
	if (r < 0) {
		conn_fail_later(c, r);
		return;
	}
	conn_update_events(c);
	conn_kick_if_needed(c);
}

void ttrpc_conn_set_reading(struct ttrpc_conn *c, bool on)
{
	if (conn_gone(c))
		return;
	c->reading = on;
	conn_update_events(c);
	conn_kick_if_needed(c);
}

size_t ttrpc_conn_pending_out(const struct ttrpc_conn *c)
{
	return c->down ? 0 : out_pending(c);
}

bool ttrpc_conn_up(const struct ttrpc_conn *c)
{
	return !conn_gone(c);
}
