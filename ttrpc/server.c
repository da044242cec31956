/* The ttrpc server: listener, per-connection dispatch, calls that outlive their handler. */
#include "ttrpc/server.h"
#include "ttrpc/conn.h"
#include "ttrpc/frame.h"
#include "ttrpc/util.h"

#include "ttrpc.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPTS_PER_WAKE 64
#define ACCEPT_RETRY_MS	 100

struct method {
	char *name;
	ttrpc_handler_fn fn;
	void *ud;
};

struct service {
	char *name;
	struct method *methods;
	size_t n_methods;
};

struct sconn;

struct ttrpc_call {
	struct sconn *sc; /* NULL once the connection is gone: an orphan */
	struct ttrpc_call *prev, *next;
	uint32_t stream_id;
	Ttrpc__Request *req;
	ttrpc_cancel_fn cancel; /* run when the connection goes */
	void *cancel_ud;
};

struct sconn {
	struct ttrpc_server *srv;
	struct ttrpc_conn *conn;
	struct sconn *prev, *next;
	struct ttrpc_call *calls; /* pending on this connection */
	bool closing;		  /* shutdown: close once output is written */
};

struct ttrpc_server {
	struct ttrpc_loop *loop;
	struct ttrpc_source listener; /* fd -1: none */
	struct service *services;
	size_t n_services;
	struct sconn *conns;
	size_t n_conns;
	bool peer_check, shutting_down;
	struct ttrpc_timer accept_retry, sweep;
};

/* ---- replies --------------------------------------------------------------------------- */

static void sconn_send(struct sconn *sc, uint32_t stream_id, const Ttrpc__Response *resp);

static void sconn_send_status(struct sconn *sc, uint32_t stream_id, int code, const char *msg)
{
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	st.code = code;
	st.message = (char *)msg;
	resp.status = &st;
	sconn_send(sc, stream_id, &resp);
}

static void sconn_send_statusf(struct sconn *sc, uint32_t stream_id, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void sconn_send_statusf(struct sconn *sc, uint32_t stream_id, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_ttrpc_cleanup_free_ char *msg = ttrpc_xvasprintf(fmt, ap);
	va_end(ap);
	sconn_send_status(sc, stream_id, code, msg);
}

static void sconn_send(struct sconn *sc, uint32_t stream_id, const Ttrpc__Response *resp)
{
	size_t n = ttrpc__response__get_packed_size(resp);
	if (n > TTRPC_MAX_DATA) {
		sconn_send_statusf(sc, stream_id, TTRPC_RESOURCE_EXHAUSTED,
				   "message length %zu exceed maximum message size of %u", n,
				   TTRPC_MAX_DATA);
		return;
	}
	struct ttrpc_hdr h = {
	    .length = (uint32_t)n, .stream_id = stream_id, .type = TTRPC_TYPE_RESPONSE};
	uint8_t *p = ttrpc_conn_reserve(sc->conn, &h);
	if (!p)
		return; /* connection down or overflowing: it is being closed */
	ttrpc__response__pack(resp, p);
	ttrpc_conn_flush(sc->conn);
	if (sc->closing && ttrpc_conn_pending_out(sc->conn) == 0)
		ttrpc_timer_arm(sc->srv->loop, &sc->srv->sweep, 0);
}

static void call_free(struct ttrpc_call *c)
{
	if (c->sc) {
		if (c->prev)
			c->prev->next = c->next;
		else
			c->sc->calls = c->next;
		if (c->next)
			c->next->prev = c->prev;
	}
	ttrpc__request__free_unpacked(c->req, NULL);
	free(c);
}

void ttrpc_call_reply(struct ttrpc_call *c, const uint8_t *payload, size_t len)
{
	if (c->sc) {
		Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
		resp.payload.len = len;
		resp.payload.data = (uint8_t *)payload;
		sconn_send(c->sc, c->stream_id, &resp);
	}
	call_free(c);
}

void ttrpc_call_reply_error(struct ttrpc_call *c, int code, const char *fmt, ...)
{
	if (c->sc) {
		va_list ap;
		va_start(ap, fmt);
		_ttrpc_cleanup_free_ char *msg = ttrpc_xvasprintf(fmt, ap);
		va_end(ap);
		sconn_send_status(c->sc, c->stream_id, code, msg);
	}
	call_free(c);
}

/* ---- call accessors -------------------------------------------------------------------- */

const char *ttrpc_call_service(const struct ttrpc_call *c)
{
	return c->req->service;
}

const char *ttrpc_call_method(const struct ttrpc_call *c)
{
	return c->req->method;
}

const uint8_t *ttrpc_call_payload(const struct ttrpc_call *c, size_t *len)
{
	*len = c->req->payload.len;
	return c->req->payload.data ? c->req->payload.data : (const uint8_t *)"";
}

int64_t ttrpc_call_timeout_nano(const struct ttrpc_call *c)
{
	return c->req->timeout_nano;
}

const char *ttrpc_call_metadata(const struct ttrpc_call *c, const char *key)
{
	for (size_t i = 0; i < c->req->n_metadata; i++) {
		const Ttrpc__KeyValue *kv = c->req->metadata[i];
		if (kv->key && strcmp(kv->key, key) == 0)
			return kv->value ? kv->value : "";
	}
	return NULL;
}

uint32_t ttrpc_call_stream_id(const struct ttrpc_call *c)
{
	return c->stream_id;
}

bool ttrpc_call_conn_alive(const struct ttrpc_call *c)
{
	return c->sc && ttrpc_conn_up(c->sc->conn);
}

void ttrpc_call_on_cancel(struct ttrpc_call *c, ttrpc_cancel_fn fn, void *ud)
{
	c->cancel = fn;
	c->cancel_ud = ud;
}

/* ---- dispatch -------------------------------------------------------------------------- */

static const struct method *server_find(const struct ttrpc_server *s, const char *service,
					const char *method, bool *service_known)
{
	*service_known = false;
	for (size_t i = 0; i < s->n_services; i++) {
		const struct service *sv = &s->services[i];
		if (strcmp(sv->name, service) != 0)
			continue;
		*service_known = true;
		for (size_t j = 0; j < sv->n_methods; j++)
			if (strcmp(sv->methods[j].name, method) == 0)
				return &sv->methods[j];
		return NULL;
	}
	return NULL;
}

static void sconn_frame(void *owner, const struct ttrpc_hdr *h, const uint8_t *data, bool oversize)
{
	struct sconn *sc = owner;
	if (oversize) {
		sconn_send_statusf(sc, h->stream_id, TTRPC_RESOURCE_EXHAUSTED,
				   "message length %u exceed maximum message size of %u", h->length,
				   TTRPC_MAX_DATA);
		return;
	}
	/* The order of the checks is ttrpc 1.1's (containerd 1.6): type, envelope, stream id. */
	if (h->type != TTRPC_TYPE_REQUEST)
		return; /* Responses, Data (streams) and unknown types are ignored */
	Ttrpc__Request *req = ttrpc__request__unpack(NULL, h->length, data);
	if (!req) {
		sconn_send_status(sc, h->stream_id, TTRPC_INVALID_ARGUMENT,
				  "unmarshal request error: invalid ttrpc.Request");
		return;
	}
	if (h->stream_id % 2 != 1) {
		sconn_send_status(sc, h->stream_id, TTRPC_INVALID_ARGUMENT,
				  "StreamID must be odd for client initiated streams");
		ttrpc__request__free_unpacked(req, NULL);
		return;
	}
	bool service_known;
	const struct method *m = server_find(sc->srv, req->service, req->method, &service_known);
	if (!m) {
		if (service_known)
			sconn_send_statusf(sc, h->stream_id, TTRPC_UNIMPLEMENTED, "method %s",
					   req->method);
		else
			sconn_send_statusf(sc, h->stream_id, TTRPC_UNIMPLEMENTED, "service %s",
					   req->service);
		ttrpc__request__free_unpacked(req, NULL);
		return;
	}
	struct ttrpc_call *c = ttrpc_xzalloc(sizeof(*c));
	c->sc = sc;
	c->stream_id = h->stream_id;
	c->req = req;
	c->next = sc->calls;
	if (sc->calls)
		sc->calls->prev = c;
	sc->calls = c;
	/* The handler may reply, free the server, anything: touch nothing of ours after it. */
	m->fn(c, m->ud);
}

/* Every pending call becomes an orphan; with `cancel`, those that asked for it are released now
 * (after the connection is gone, so that a cancel callback sees a consistent server). */
static void sconn_destroy(struct sconn *sc, bool cancel)
{
	struct ttrpc_server *s = sc->srv;
	struct ttrpc_call *cancelled = NULL;
	for (struct ttrpc_call *c = sc->calls, *next; c; c = next) {
		next = c->next;
		c->sc = NULL;
		c->prev = NULL;
		c->next = NULL;
		if (cancel && c->cancel) {
			/* an orphan's links are unused (call_free skips them): borrow `next` */
			c->next = cancelled;
			cancelled = c;
		}
	}
	if (sc->prev)
		sc->prev->next = sc->next;
	else
		s->conns = sc->next;
	if (sc->next)
		sc->next->prev = sc->prev;
	s->n_conns--;
	ttrpc_conn_free(sc->conn);
	free(sc);
	while (cancelled) {
		struct ttrpc_call *c = cancelled;
		cancelled = c->next;
		c->next = NULL;
		c->cancel(c, c->cancel_ud); /* frees c */
	}
}

static void sconn_closed(void *owner, int err)
{
	(void)err;
	sconn_destroy(owner, true);
}

static void sconn_drained(void *owner)
{
	struct sconn *sc = owner;
	if (sc->closing)
		ttrpc_timer_arm(sc->srv->loop, &sc->srv->sweep, 0);
}

static const struct ttrpc_conn_ops sconn_ops = {
    .frame = sconn_frame,
    .closed = sconn_closed,
    .drained = sconn_drained,
};

int ttrpc_server_add_conn(struct ttrpc_server *s, int fd)
{
	int pr = ttrpc_fd_prepare(fd);
	if (pr < 0) {
		close(fd);
		return pr;
	}
	struct sconn *sc = ttrpc_xzalloc(sizeof(*sc));
	int r = 0;
	sc->srv = s;
	sc->conn = ttrpc_conn_new(s->loop, fd, false, &sconn_ops, sc, &r);
	if (!sc->conn) {
		free(sc);
		return r;
	}
	sc->next = s->conns;
	if (s->conns)
		s->conns->prev = sc;
	s->conns = sc;
	s->n_conns++;
	if (s->shutting_down) {
		sc->closing = true;
		ttrpc_conn_set_reading(sc->conn, false);
		ttrpc_timer_arm(s->loop, &s->sweep, 0);
	}
	return 0;
}

/* ---- listener -------------------------------------------------------------------------- */

static bool peer_ok(int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return false;
	return uc.uid == geteuid() && uc.gid == getegid();
}

static void listener_cb(struct ttrpc_source *src, uint32_t events)
{
	struct ttrpc_server *s = ttrpc_container_of(src, struct ttrpc_server, listener);
	(void)events;
	for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
		int fd = accept4(src->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Level-triggered: stop asking for a while instead of spinning. */
				ttrpc_loop_mod(s->loop, &s->listener, 0);
				ttrpc_timer_arm(s->loop, &s->accept_retry, ACCEPT_RETRY_MS);
			}
			return;
		}
		if (s->peer_check && !peer_ok(fd)) {
			close(fd);
			continue;
		}
		ttrpc_server_add_conn(s, fd);
	}
}

static void accept_retry_cb(struct ttrpc_timer *t)
{
	struct ttrpc_server *s = ttrpc_container_of(t, struct ttrpc_server, accept_retry);
	if (s->listener.fd >= 0)
		ttrpc_loop_mod(s->loop, &s->listener, EPOLLIN);
}

static void sweep_cb(struct ttrpc_timer *t)
{
	struct ttrpc_server *s = ttrpc_container_of(t, struct ttrpc_server, sweep);
	for (struct sconn *sc = s->conns, *next; sc; sc = next) {
		next = sc->next;
		if (sc->closing && ttrpc_conn_pending_out(sc->conn) == 0)
			sconn_destroy(sc, true);
	}
}

static void server_close_listener(struct ttrpc_server *s)
{
	if (s->listener.fd < 0)
		return;
	ttrpc_loop_del(s->loop, &s->listener);
	close(s->listener.fd);
	s->listener.fd = -1;
	ttrpc_timer_cancel(s->loop, &s->accept_retry);
}

int ttrpc_server_new(struct ttrpc_loop *l, int listen_fd, struct ttrpc_server **out)
{
	struct ttrpc_server *s = ttrpc_xzalloc(sizeof(*s));
	s->loop = l;
	s->peer_check = true;
	s->listener.fd = listen_fd;
	s->listener.cb = listener_cb;
	s->accept_retry.cb = accept_retry_cb;
	s->sweep.cb = sweep_cb;
	if (listen_fd >= 0) {
		int r = ttrpc_fd_prepare(listen_fd);
		if (r == 0)
			r = ttrpc_loop_add(l, &s->listener, EPOLLIN);
		if (r < 0) {
			close(listen_fd);
			free(s);
			return r;
		}
	}
	*out = s;
	return 0;
}

void ttrpc_server_free(struct ttrpc_server *s)
{
	if (!s)
		return;
	server_close_listener(s);
	ttrpc_timer_cancel(s->loop, &s->sweep);
	while (s->conns)
		sconn_destroy(s->conns, false);
	for (size_t i = 0; i < s->n_services; i++) {
		for (size_t j = 0; j < s->services[i].n_methods; j++)
			free(s->services[i].methods[j].name);
		free(s->services[i].methods);
		free(s->services[i].name);
	}
	free(s->services);
	free(s);
}

int ttrpc_server_register(struct ttrpc_server *s, const char *service, const char *method,
			  ttrpc_handler_fn fn, void *ud)
{
	struct service *sv = NULL;
	for (size_t i = 0; i < s->n_services && !sv; i++)
		if (strcmp(s->services[i].name, service) == 0)
			sv = &s->services[i];
	if (!sv) {
		s->services = ttrpc_xrealloc(s->services, (s->n_services + 1) * sizeof(*sv));
		sv = &s->services[s->n_services++];
		*sv = (struct service){.name = ttrpc_xstrdup(service)};
	}
	for (size_t j = 0; j < sv->n_methods; j++)
		if (strcmp(sv->methods[j].name, method) == 0)
			return -EEXIST;
	sv->methods = ttrpc_xrealloc(sv->methods, (sv->n_methods + 1) * sizeof(*sv->methods));
	sv->methods[sv->n_methods++] =
	    (struct method){.name = ttrpc_xstrdup(method), .fn = fn, .ud = ud};
	return 0;
}

void ttrpc_server_set_peer_check(struct ttrpc_server *s, bool same_uid)
{
	s->peer_check = same_uid;
}

void ttrpc_server_shutdown(struct ttrpc_server *s)
{
	s->shutting_down = true;
	server_close_listener(s);
	for (struct sconn *sc = s->conns; sc; sc = sc->next) {
		sc->closing = true;
		ttrpc_conn_set_reading(sc->conn, false);
	}
	ttrpc_timer_arm(s->loop, &s->sweep, 0);
}

bool ttrpc_server_flushed(const struct ttrpc_server *s)
{
	for (const struct sconn *sc = s->conns; sc; sc = sc->next)
		if (ttrpc_conn_pending_out(sc->conn))
			return false;
	return true;
}

size_t ttrpc_server_n_conns(const struct ttrpc_server *s)
{
	return s->n_conns;
}
