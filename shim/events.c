/* The ordered event publisher: see events.h. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "containerd/services/events/ttrpc/v1/events.pb-c.h"
#include "runtime/util.h"
#include "shim/any.h"
#include "shim/events.h"
#include "shim/log.h"

#define EVENTS_SERVICE	   "containerd.services.events.ttrpc.v1.Events"
#define QUEUE_MAX	   4096
#define FORWARD_TIMEOUT_NS (5LL * 1000 * 1000 * 1000)
#define MAX_REJECTS	   5 /* non-transport errors before an event is dropped, as the Go shim */

struct event {
	struct event *next;
	char *topic;
	uint8_t *req; /* packed ForwardRequest */
	size_t len;
	unsigned attempts;
};

struct shim_publisher {
	struct ttrpc_loop *loop;
	char *address;
	char *ns;
	struct ttrpc_client *client;
	struct event *head, **tail;
	size_t n;
	bool in_flight;
	struct ttrpc_timer retry;
	unsigned backoff_ms;
};

static void send_next(struct shim_publisher *p);

static void drop_head(struct shim_publisher *p)
{
	struct event *e = p->head;

	p->head = e->next;
	if (!p->head)
		p->tail = &p->head;
	p->n--;
	free(e->topic);
	free(e->req);
	free(e);
}

static void on_client_close(void *ud)
{
	struct shim_publisher *p = ud;
	/* The client is freed at the next send (not from inside its own callback). */
	(void)p;
}

static void schedule_retry(struct shim_publisher *p)
{
	p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : 100;
	if (p->backoff_ms > 5000)
		p->backoff_ms = 5000;
	ttrpc_timer_arm(p->loop, &p->retry, p->backoff_ms);
}

static void on_retry(struct ttrpc_timer *t)
{
	struct shim_publisher *p =
	    (struct shim_publisher *)((char *)t - offsetof(struct shim_publisher, retry));
	send_next(p);
}

static void on_reply(void *ud, int code, const char *msg, const uint8_t *payload, size_t len)
{
	struct shim_publisher *p = ud;
	struct event *e = p->head;

	p->in_flight = false;
	if (!e)
		return;
	if (code == TTRPC_OK) {
		log_debug("published %s", e->topic);
		p->backoff_ms = 0;
		drop_head(p);
		send_next(p);
		return;
	}
	if (code == TTRPC_UNAVAILABLE) {
		/* containerd went away (or is restarting): reconnect and try again, first at once. */
		log_debug("publish %s: %s; will retry", e->topic, msg ? msg : "");
		if (p->backoff_ms == 0) {
			p->backoff_ms = 50;
			ttrpc_timer_arm(p->loop, &p->retry, 0);
		} else {
			schedule_retry(p);
		}
		return;
	}
	if (++e->attempts > MAX_REJECTS) {
		log_error("dropping event %s after %u rejections: %s", e->topic, e->attempts,
			  msg ? msg : "");
		drop_head(p);
		send_next(p);
		return;
	}
	log_warn("publish %s: %s; will retry", e->topic, msg ? msg : "");
	schedule_retry(p);
}

static void send_next(struct shim_publisher *p)
{
	struct ttrpc_kv md = {"containerd-namespace-ttrpc", p->ns};
	struct event *e = p->head;

	if (p->in_flight || !e || ttrpc_timer_armed(&p->retry))
		return;
	if (p->client && ttrpc_client_closed(p->client)) {
		ttrpc_client_free(p->client);
		p->client = NULL;
	}
	if (!p->client) {
		int r = ttrpc_client_dial(p->loop, p->address, &p->client);
		if (r < 0) {
			p->client = NULL;
			log_debug("connect %s: %s; will retry", p->address, strerror(-r));
			schedule_retry(p);
			return;
		}
		ttrpc_client_on_close(p->client, on_client_close, p);
	}
	p->in_flight = true;
	if (ttrpc_client_call(p->client, EVENTS_SERVICE, "Forward", e->req, e->len,
			      FORWARD_TIMEOUT_NS, &md, 1, on_reply, p) < 0) {
		p->in_flight = false;
		ttrpc_client_free(p->client);
		p->client = NULL;
		schedule_retry(p);
	}
}

struct shim_publisher *shim_publisher_new(struct ttrpc_loop *loop, const char *ttrpc_address,
					  const char *ns)
{
	struct shim_publisher *p = xzalloc(sizeof(*p));

	p->loop = loop;
	p->address = xstrdup(ttrpc_address);
	p->ns = xstrdup(ns);
	p->tail = &p->head;
	p->retry.cb = on_retry;
	return p;
}

void shim_publish(struct shim_publisher *p, const char *topic, const char *type,
		  const ProtobufCMessage *event)
{
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest req =
	    CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;
	Containerd__Services__Events__Ttrpc__V1__Envelope env =
	    CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct timespec now;
	struct event *e;

	if (!p->address[0]) {
		log_error("no TTRPC_ADDRESS: cannot publish %s", topic);
		return;
	}
	if (p->n >= QUEUE_MAX) {
		log_error("event queue full: dropping %s", topic);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	env.timestamp = &ts;
	env.namespace_ = p->ns;
	env.topic = (char *)topic;
	env.event = shim_any_pack(type, event);
	req.envelope = &env;

	e = xzalloc(sizeof(*e));
	e->topic = xstrdup(topic);
	e->len = containerd__services__events__ttrpc__v1__forward_request__get_packed_size(&req);
	e->req = xmalloc(e->len);
	containerd__services__events__ttrpc__v1__forward_request__pack(&req, e->req);
	shim_any_free(env.event);

	*p->tail = e;
	p->tail = &e->next;
	p->n++;
	send_next(p);
}

bool shim_publisher_idle(const struct shim_publisher *p)
{
	return p->head == NULL && !p->in_flight;
}

void shim_publisher_free(struct shim_publisher *p)
{
	if (!p)
		return;
	ttrpc_timer_cancel(p->loop, &p->retry);
	if (p->client)
		ttrpc_client_free(p->client);
	while (p->head)
		drop_head(p);
	free(p->address);
	free(p->ns);
	free(p);
}
