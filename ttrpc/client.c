/* The ttrpc client: requests out with odd increasing ids, responses matched back by id. */
#include "ttrpc/client.h"
#include "ttrpc/conn.h"
#include "ttrpc/frame.h"
#include "ttrpc/util.h"

#include "ttrpc.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char closed_msg[] = "ttrpc: closed";

struct pending {
	struct ttrpc_client *cl;
	struct pending *prev, *next;
	uint32_t id;
	ttrpc_reply_fn cb;
	void *ud;
	struct ttrpc_timer deadline;
};

struct ttrpc_client {
	struct ttrpc_loop *loop;
	struct ttrpc_conn *conn; /* NULL once closed */
	uint32_t next_id;	 /* 0 once the ids are used up */
	struct pending *pending;
	size_t n_pending;
	void (*on_close)(void *ud);
	void *on_close_ud;
	bool closed, freeing;
	int depth; /* user callbacks on the stack */
};

static void client_maybe_release(struct ttrpc_client *cl)
{
	if (cl->freeing && cl->depth == 0)
		free(cl);
}

static void pending_unlink(struct ttrpc_client *cl, struct pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		cl->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
	cl->n_pending--;
	ttrpc_timer_cancel(cl->loop, &p->deadline);
}

/* Unlink p, call its callback, free it. The client may be freed by the callback: the caller must
 * call client_maybe_release afterwards and touch nothing of it. */
static void pending_complete(struct ttrpc_client *cl, struct pending *p, int code, const char *msg,
			     const uint8_t *payload, size_t len)
{
	pending_unlink(cl, p);
	cl->depth++;
	p->cb(p->ud, code, msg, payload, len);
	cl->depth--;
	free(p);
}

static struct pending *pending_find(struct ttrpc_client *cl, uint32_t id)
{
	for (struct pending *p = cl->pending; p; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

static void client_fail(struct ttrpc_client *cl)
{
	if (cl->closed)
		return;
	cl->closed = true;
	ttrpc_conn_free(cl->conn);
	cl->conn = NULL;
	cl->depth++;
	while (cl->pending)
		pending_complete(cl, cl->pending, TTRPC_UNAVAILABLE, closed_msg, NULL, 0);
	if (!cl->freeing && cl->on_close) {
		void (*fn)(void *) = cl->on_close;
		cl->on_close = NULL;
		fn(cl->on_close_ud);
	}
	cl->depth--;
}

static void client_frame(void *owner, const struct ttrpc_hdr *h, const uint8_t *data, bool oversize)
{
	struct ttrpc_client *cl = owner;
	if (!oversize && h->type != TTRPC_TYPE_RESPONSE)
		return;
	struct pending *p = pending_find(cl, h->stream_id);
	if (!p)
		return; /* late (after its deadline) or never asked for */
	if (oversize) {
		_ttrpc_cleanup_free_ char *msg = NULL;
		if (asprintf(&msg, "message length %u exceed maximum message size of %u", h->length,
			     TTRPC_MAX_DATA) < 0)
			ttrpc_oom();
		pending_complete(cl, p, TTRPC_RESOURCE_EXHAUSTED, msg, NULL, 0);
		client_maybe_release(cl);
		return;
	}
	Ttrpc__Response *resp = ttrpc__response__unpack(NULL, h->length, data);
	if (!resp) {
		pending_complete(cl, p, TTRPC_INTERNAL, "ttrpc: failed to unmarshal response", NULL,
				 0);
	} else if (resp->status && resp->status->code != 0) {
		pending_complete(cl, p, resp->status->code,
				 resp->status->message ? resp->status->message : "", NULL, 0);
	} else {
		pending_complete(cl, p, TTRPC_OK, "",
				 resp->payload.data ? resp->payload.data : (const uint8_t *)"",
				 resp->payload.len);
	}
	ttrpc__response__free_unpacked(resp, NULL);
	client_maybe_release(cl);
}

static void client_closed(void *owner, int err)
{
	struct ttrpc_client *cl = owner;
	(void)err;
	client_fail(cl);
	client_maybe_release(cl);
}

static const struct ttrpc_conn_ops client_ops = {
    .frame = client_frame,
    .closed = client_closed,
};

static void deadline_cb(struct ttrpc_timer *t)
{
	struct pending *p = ttrpc_container_of(t, struct pending, deadline);
	struct ttrpc_client *cl = p->cl;
	pending_complete(cl, p, TTRPC_DEADLINE_EXCEEDED, "context deadline exceeded", NULL, 0);
	client_maybe_release(cl);
}

static int client_start(struct ttrpc_loop *l, int fd, bool connecting, struct ttrpc_client **out)
{
	struct ttrpc_client *cl = ttrpc_xzalloc(sizeof(*cl));
	int r = 0;
	cl->loop = l;
	cl->next_id = 1;
	cl->conn = ttrpc_conn_new(l, fd, connecting, &client_ops, cl, &r);
	if (!cl->conn) {
		free(cl);
		return r;
	}
	*out = cl;
	return 0;
}

int ttrpc_client_new(struct ttrpc_loop *l, int fd, struct ttrpc_client **out)
{
	int pr = ttrpc_fd_prepare(fd);
	if (pr < 0) {
		close(fd);
		return pr;
	}
	return client_start(l, fd, false, out);
}

/* sockaddr for "unix:///path", "unix://path", "/path" or "@abstract". */
static int parse_address(const char *address, struct sockaddr_un *sa, socklen_t *len)
{
	const char *path = address;
	if (strncmp(path, "unix://", 7) == 0)
		path += 7;
	size_t n = strlen(path);
	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n);
	if (path[0] == '@') {
		sa->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	return 0;
}

int ttrpc_client_dial(struct ttrpc_loop *l, const char *address, struct ttrpc_client **out)
{
	struct sockaddr_un sa;
	socklen_t sl;
	int r = parse_address(address, &sa, &sl);
	if (r < 0)
		return r;
	_ttrpc_cleanup_close_ int fd =
	    socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	bool connecting = false;
	while (connect(fd, (struct sockaddr *)&sa, sl) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EINPROGRESS)
			return -errno;
		connecting = true;
		break;
	}
	return client_start(l, ttrpc_steal_fd(&fd), connecting, out);
}

void ttrpc_client_on_close(struct ttrpc_client *c, void (*fn)(void *ud), void *ud)
{
	c->on_close = fn;
	c->on_close_ud = ud;
}

int ttrpc_client_call(struct ttrpc_client *c, const char *service, const char *method,
		      const uint8_t *payload, size_t len, int64_t timeout_nano,
		      const struct ttrpc_kv *md, size_t n_md, ttrpc_reply_fn cb, void *ud)
{
	if (c->closed || c->freeing || !ttrpc_conn_up(c->conn))
		return -ENOTCONN;
	if (c->next_id == 0)
		return -EOVERFLOW;

	Ttrpc__Request req = TTRPC__REQUEST__INIT;
	req.service = (char *)service;
	req.method = (char *)method;
	req.payload.len = len;
	req.payload.data = (uint8_t *)payload;
	req.timeout_nano = timeout_nano > 0 ? timeout_nano : 0;
	_ttrpc_cleanup_free_ Ttrpc__KeyValue *kvs = NULL;
	_ttrpc_cleanup_free_ Ttrpc__KeyValue **kvp = NULL;
	if (n_md) {
		kvs = ttrpc_xmalloc(n_md * sizeof(*kvs));
		kvp = ttrpc_xmalloc(n_md * sizeof(*kvp));
		for (size_t i = 0; i < n_md; i++) {
			ttrpc__key_value__init(&kvs[i]);
			kvs[i].key = (char *)md[i].key;
			kvs[i].value = (char *)md[i].value;
			kvp[i] = &kvs[i];
		}
		req.n_metadata = n_md;
		req.metadata = kvp;
	}
	size_t n = ttrpc__request__get_packed_size(&req);
	if (n > TTRPC_MAX_DATA)
		return -EMSGSIZE;
	if (ttrpc_conn_pending_out(c->conn) + TTRPC_HDR_LEN + n > TTRPC_OUT_MAX)
		return -ENOBUFS;
	struct ttrpc_hdr h = {
	    .length = (uint32_t)n, .stream_id = c->next_id, .type = TTRPC_TYPE_REQUEST};
	uint8_t *p = ttrpc_conn_reserve(c->conn, &h);
	if (!p)
		return -ENOTCONN;
	ttrpc__request__pack(&req, p);

	struct pending *pd = ttrpc_xzalloc(sizeof(*pd));
	pd->cl = c;
	pd->id = c->next_id;
	pd->cb = cb;
	pd->ud = ud;
	pd->deadline.cb = deadline_cb;
	pd->next = c->pending;
	if (c->pending)
		c->pending->prev = pd;
	c->pending = pd;
	c->n_pending++;
	if (timeout_nano > 0)
		ttrpc_timer_arm(c->loop, &pd->deadline,
				((uint64_t)timeout_nano + 999999) / 1000000);

	c->next_id = c->next_id > UINT32_MAX - 2 ? 0 : c->next_id + 2;
	ttrpc_conn_flush(c->conn);
	return 0;
}

void ttrpc_client_free(struct ttrpc_client *c)
{
	if (!c || c->freeing)
		return;
	c->freeing = true;
	client_fail(c);
	client_maybe_release(c);
}

bool ttrpc_client_closed(const struct ttrpc_client *c)
{
	return c->closed || !ttrpc_conn_up(c->conn);
}

size_t ttrpc_client_n_pending(const struct ttrpc_client *c)
{
	return c->n_pending;
}

/* ---- blocking helper ------------------------------------------------------------------- */

struct sync_result {
	bool done;
	int code;
	char *msg;
	uint8_t *resp;
	size_t len;
};

static void sync_cb(void *ud, int code, const char *msg, const uint8_t *payload, size_t len)
{
	struct sync_result *r = ud;
	r->done = true;
	r->code = code;
	r->msg = ttrpc_xstrdup(msg ? msg : "");
	if (len) {
		r->resp = ttrpc_xmalloc(len);
		memcpy(r->resp, payload, len);
	}
	r->len = len;
}

int ttrpc_call_sync(const char *address, const char *service, const char *method,
		    const uint8_t *payload, size_t len, int timeout_ms, int *code, char **msg,
		    uint8_t **resp, size_t *resp_len)
{
	struct ttrpc_loop *l;
	struct ttrpc_client *cl;
	struct sync_result res = {0};
	int r = ttrpc_loop_new(&l);
	if (r < 0)
		return r;
	r = ttrpc_client_dial(l, address, &cl);
	if (r < 0)
		goto out_loop;
	int64_t tmo = timeout_ms > 0 ? (int64_t)timeout_ms * 1000000 : 0;
	r = ttrpc_client_call(cl, service, method, payload, len, tmo, NULL, 0, sync_cb, &res);
	if (r == 0) {
		/* The call's own deadline (or the connection closing) ends this. */
		while (!res.done) {
			r = ttrpc_loop_run_once(l, -1);
			if (r < 0)
				break;
			r = 0;
		}
	}
	ttrpc_client_free(cl);
	if (r == 0) {
		*code = res.code;
		*msg = res.msg;
		*resp = res.resp;
		*resp_len = res.len;
	} else {
		free(res.msg);
		free(res.resp);
	}
out_loop:
	ttrpc_loop_free(l);
	return r;
}
