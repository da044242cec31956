/* The client over a socketpair: a raw peer plays the server. */
#include "helpers.h"

struct fx {
	struct ttrpc_loop *l;
	struct ttrpc_client *c;
	int peer;
	struct raw_reader rd;
	int closes;
};

struct got {
	int calls;
	int code;
	char msg[128];
	char payload[128];
	size_t len;
	struct fx *f;
	bool free_client; /* from inside the callback */
	bool call_again;  /* from inside the callback */
	int again_rc;
};

static void reply_cb(void *ud, int code, const char *msg, const uint8_t *payload, size_t len)
{
	struct got *g = ud;
	g->calls++;
	g->code = code;
	snprintf(g->msg, sizeof(g->msg), "%s", msg);
	snprintf(g->payload, sizeof(g->payload), "%.*s", (int)len, (const char *)payload);
	g->len = len;
	if (g->call_again)
		g->again_rc =
		    ttrpc_client_call(g->f->c, "s", "m", NULL, 0, 0, NULL, 0, reply_cb, g);
	if (g->free_client) {
		ttrpc_client_free(g->f->c);
		g->f->c = NULL;
	}
}

static void on_close(void *ud)
{
	struct fx *f = ud;
	f->closes++;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];
	assert_int_equal(ttrpc_loop_new(&f->l), 0);
	sockpair(sv);
	assert_int_equal(ttrpc_client_new(f->l, sv[0], &f->c), 0);
	ttrpc_client_on_close(f->c, on_close, f);
	f->peer = sv[1];
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	ttrpc_client_free(f->c);
	if (f->peer >= 0)
		close(f->peer);
	raw_reader_free(&f->rd);
	ttrpc_loop_free(f->l);
	free(f);
	return 0;
}

/* Read one request on the raw end. */
static Ttrpc__Request *recv_request(struct fx *f, uint32_t *id)
{
	struct ttrpc_hdr h;
	uint8_t *d = NULL;
	assert_true(raw_recv_frame(f->l, f->peer, &f->rd, &h, &d));
	assert_int_equal(h.type, TTRPC_TYPE_REQUEST);
	assert_int_equal(h.flags, 0);
	*id = h.stream_id;
	Ttrpc__Request *req = ttrpc__request__unpack(NULL, h.length, d);
	assert_non_null(req);
	free(d);
	return req;
}

static void send_response(struct fx *f, uint32_t id, int code, const char *msg, const char *payload)
{
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	if (code) {
		st.code = code;
		st.message = (char *)msg;
		resp.status = &st;
	}
	if (payload) {
		resp.payload.data = (uint8_t *)payload;
		resp.payload.len = strlen(payload);
	}
	uint8_t b[512];
	size_t n = ttrpc__response__pack(&resp, b);
	raw_send_frame(f->l, f->peer, id, TTRPC_TYPE_RESPONSE, b, n);
}

static void call(struct fx *f, const char *payload, struct got *g)
{
	g->f = f;
	assert_int_equal(ttrpc_client_call(f->c, "test.v1.Svc", "M", (const uint8_t *)payload,
					   strlen(payload), 0, NULL, 0, reply_cb, g),
			 0);
}

static void test_client_uses_odd_increasing_stream_ids_from_1(void **state)
{
	struct fx *f = *state;
	struct got g[4] = {0};
	for (int i = 0; i < 4; i++)
		call(f, "p", &g[i]);
	for (uint32_t want = 1; want <= 7; want += 2) {
		uint32_t id;
		Ttrpc__Request *req = recv_request(f, &id);
		assert_int_equal(id, want);
		assert_string_equal(req->service, "test.v1.Svc");
		assert_string_equal(req->method, "M");
		ttrpc__request__free_unpacked(req, NULL);
	}
	assert_int_equal(ttrpc_client_n_pending(f->c), 4);
	ttrpc_client_free(f->c); /* before g goes out of scope */
	f->c = NULL;
	assert_int_equal(g[3].code, TTRPC_UNAVAILABLE);
}

static void test_client_matches_out_of_order_responses(void **state)
{
	struct fx *f = *state;
	struct got a = {0}, b = {0}, c = {0};
	call(f, "a", &a);
	call(f, "b", &b);
	call(f, "c", &c);
	send_response(f, 5, 0, NULL, "for c");
	send_response(f, 1, 0, NULL, "for a");
	RUN_UNTIL(f->l, a.calls && c.calls);
	assert_int_equal(b.calls, 0);
	send_response(f, 3, 0, NULL, "for b");
	RUN_UNTIL(f->l, b.calls);
	assert_string_equal(a.payload, "for a");
	assert_string_equal(b.payload, "for b");
	assert_string_equal(c.payload, "for c");
	assert_int_equal(a.code, 0);
	assert_int_equal(ttrpc_client_n_pending(f->c), 0);
}

static void test_client_treats_a_zero_length_response_as_ok_and_empty(void **state)
{
	struct fx *f = *state;
	struct got g = {0};
	call(f, "x", &g);
	raw_send_frame(f->l, f->peer, 1, TTRPC_TYPE_RESPONSE, NULL, 0);
	RUN_UNTIL(f->l, g.calls);
	assert_int_equal(g.code, 0);
	assert_string_equal(g.msg, "");
	assert_int_equal(g.len, 0);
}

static void test_client_reports_the_error_status(void **state)
{
	struct fx *f = *state;
	struct got g = {0};
	call(f, "x", &g);
	send_response(f, 1, TTRPC_NOT_FOUND, "container not created: not found", NULL);
	RUN_UNTIL(f->l, g.calls);
	assert_int_equal(g.code, TTRPC_NOT_FOUND);
	assert_string_equal(g.msg, "container not created: not found");
}

static void test_client_sends_metadata_and_timeout(void **state)
{
	struct fx *f = *state;
	struct got g = {.f = f};
	struct ttrpc_kv md[] = {{"containerd-namespace-ttrpc", "shimexp"}, {"k2", "v2"}};
	assert_int_equal(ttrpc_client_call(f->c, "containerd.services.events.ttrpc.v1.Events",
					   "Forward", (const uint8_t *)"\x0a\x00", 2, 5000000000,
					   md, 2, reply_cb, &g),
			 0);
	uint32_t id;
	Ttrpc__Request *req = recv_request(f, &id);
	assert_int_equal(req->timeout_nano, 5000000000);
	assert_int_equal(req->n_metadata, 2);
	assert_string_equal(req->metadata[0]->key, "containerd-namespace-ttrpc");
	assert_string_equal(req->metadata[0]->value, "shimexp");
	assert_string_equal(req->metadata[1]->key, "k2");
	assert_int_equal(req->payload.len, 2);
	ttrpc__request__free_unpacked(req, NULL);
	ttrpc_client_free(f->c);
	f->c = NULL;
}

static void test_client_fails_pending_calls_when_the_connection_closes(void **state)
{
	struct fx *f = *state;
	struct got a = {0}, b = {0};
	call(f, "a", &a);
	call(f, "b", &b);
	close(f->peer);
	f->peer = -1;
	RUN_UNTIL(f->l, a.calls && b.calls);
	assert_int_equal(a.code, TTRPC_UNAVAILABLE);
	assert_string_equal(a.msg, "ttrpc: closed");
	assert_int_equal(b.code, TTRPC_UNAVAILABLE);
	assert_int_equal(f->closes, 1);
	assert_true(ttrpc_client_closed(f->c));
	run_for(f->l, 10);
	assert_int_equal(a.calls, 1);
	assert_int_equal(f->closes, 1);
}

static void test_client_calls_on_close_when_the_peer_closes_mid_frame(void **state)
{
	struct fx *f = *state;
	struct got a = {0};
	call(f, "a", &a);
	raw_write(f->l, f->peer, "\x00\x00\x00\x20\x00\x00\x00\x01\x02\x00part", 14);
	run_for(f->l, 10);
	assert_int_equal(a.calls, 0);
	close(f->peer);
	f->peer = -1;
	RUN_UNTIL(f->l, f->closes == 1);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.code, TTRPC_UNAVAILABLE);
}

static void test_client_refuses_calls_once_closed(void **state)
{
	struct fx *f = *state;
	close(f->peer);
	f->peer = -1;
	RUN_UNTIL(f->l, f->closes == 1);
	struct got g = {0};
	assert_int_equal(ttrpc_client_call(f->c, "s", "m", NULL, 0, 0, NULL, 0, reply_cb, &g),
			 -ENOTCONN);
	run_for(f->l, 10);
	assert_int_equal(g.calls, 0);
}

static void test_client_free_fails_pending_calls_without_on_close(void **state)
{
	struct fx *f = *state;
	struct got a = {0};
	call(f, "a", &a);
	ttrpc_client_free(f->c);
	f->c = NULL;
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.code, TTRPC_UNAVAILABLE);
	assert_string_equal(a.msg, "ttrpc: closed");
	assert_int_equal(f->closes, 0);
}

static void test_client_may_be_freed_from_inside_a_reply_callback(void **state)
{
	struct fx *f = *state;
	struct got a = {.free_client = true}, b = {0};
	call(f, "a", &a);
	call(f, "b", &b);
	a.free_client = true;
	/* both responses in one write: the second is never dispatched after the free */
	send_response(f, 1, 0, NULL, "ra");
	RUN_UNTIL(f->l, a.calls);
	assert_null(f->c);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.code, TTRPC_UNAVAILABLE);
}

static void test_client_may_be_freed_from_inside_a_closed_callback(void **state)
{
	struct fx *f = *state;
	struct got a = {.free_client = true, .call_again = true};
	call(f, "a", &a);
	a.free_client = true;
	a.call_again = true;
	close(f->peer);
	f->peer = -1;
	RUN_UNTIL(f->l, a.calls);
	assert_int_equal(a.again_rc, -ENOTCONN);
	assert_null(f->c);
	run_for(f->l, 10);
	assert_int_equal(a.calls, 1);
}

static void test_client_gives_deadline_exceeded_when_the_timeout_passes(void **state)
{
	struct fx *f = *state;
	struct got g = {.f = f};
	assert_int_equal(
	    ttrpc_client_call(f->c, "s", "m", NULL, 0, 20000000, NULL, 0, reply_cb, &g), 0);
	RUN_UNTIL(f->l, g.calls);
	assert_int_equal(g.code, TTRPC_DEADLINE_EXCEEDED);
	/* a late answer is ignored */
	send_response(f, 1, 0, NULL, "late");
	run_for(f->l, 20);
	assert_int_equal(g.calls, 1);
	assert_false(ttrpc_client_closed(f->c));
}

static void test_client_ignores_responses_for_unknown_streams(void **state)
{
	struct fx *f = *state;
	struct got g = {0};
	call(f, "x", &g);
	send_response(f, 99, 0, NULL, "stray");
	raw_send_frame(f->l, f->peer, 1, TTRPC_TYPE_DATA, "zz", 2);
	send_response(f, 1, 0, NULL, "mine");
	RUN_UNTIL(f->l, g.calls);
	assert_string_equal(g.payload, "mine");
}

static void test_client_fails_a_call_whose_response_is_oversize_and_stays_usable(void **state)
{
	struct fx *f = *state;
	struct got a = {0}, b = {0};
	call(f, "a", &a);
	call(f, "b", &b);
	size_t len = 5u << 20;
	uint8_t *big = calloc(1, len);
	raw_send_frame(f->l, f->peer, 1, TTRPC_TYPE_RESPONSE, big, len);
	free(big);
	send_response(f, 3, 0, NULL, "ok");
	RUN_UNTIL(f->l, a.calls && b.calls);
	assert_int_equal(a.code, TTRPC_RESOURCE_EXHAUSTED);
	assert_int_equal(b.code, 0);
	assert_string_equal(b.payload, "ok");
}

static void test_client_refuses_a_request_over_4mib(void **state)
{
	struct fx *f = *state;
	struct got g = {0};
	uint8_t *big = calloc(1, TTRPC_MAX_DATA);
	assert_int_equal(
	    ttrpc_client_call(f->c, "s", "m", big, TTRPC_MAX_DATA, 0, NULL, 0, reply_cb, &g),
	    -EMSGSIZE);
	free(big);
}

static void test_client_reports_a_malformed_response_as_internal(void **state)
{
	struct fx *f = *state;
	struct got g = {0};
	call(f, "x", &g);
	raw_send_frame(f->l, f->peer, 1, TTRPC_TYPE_RESPONSE, "\x0a\x50", 2);
	RUN_UNTIL(f->l, g.calls);
	assert_int_equal(g.code, TTRPC_INTERNAL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_client_uses_odd_increasing_stream_ids_from_1),
	    T(test_client_matches_out_of_order_responses),
	    T(test_client_treats_a_zero_length_response_as_ok_and_empty),
	    T(test_client_reports_the_error_status),
	    T(test_client_sends_metadata_and_timeout),
	    T(test_client_fails_pending_calls_when_the_connection_closes),
	    T(test_client_calls_on_close_when_the_peer_closes_mid_frame),
	    T(test_client_refuses_calls_once_closed),
	    T(test_client_free_fails_pending_calls_without_on_close),
	    T(test_client_may_be_freed_from_inside_a_reply_callback),
	    T(test_client_may_be_freed_from_inside_a_closed_callback),
	    T(test_client_gives_deadline_exceeded_when_the_timeout_passes),
	    T(test_client_ignores_responses_for_unknown_streams),
	    T(test_client_fails_a_call_whose_response_is_oversize_and_stays_usable),
	    T(test_client_refuses_a_request_over_4mib),
	    T(test_client_reports_a_malformed_response_as_internal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
