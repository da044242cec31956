/* The server over a socketpair: a raw peer writes frames by hand and reads the replies. */
#include "helpers.h"

#define SVC "test.v1.Svc"

struct fx {
	struct ttrpc_loop *l;
	struct ttrpc_server *s;
	int peer; /* raw client end */
	struct raw_reader rd;
	struct ttrpc_call *deferred[16];
	int n_deferred;
	char order[16][32]; /* payloads of the calls, in dispatch order */
	int n_order;
	char md[64];
	int64_t timeout;
	bool alive_at_reply;
	int n_cancelled;
	bool alive_at_cancel;
};

static void h_echo(struct ttrpc_call *c, void *ud)
{
	struct fx *f = ud;
	size_t n;
	const uint8_t *p = ttrpc_call_payload(c, &n);
	if (f->n_order < 16)
		snprintf(f->order[f->n_order++], 32, "%.*s", (int)n, (const char *)p);
	ttrpc_call_reply(c, p, n);
}

static void h_empty(struct ttrpc_call *c, void *ud)
{
	ttrpc_call_reply(c, NULL, 0);
}

static void h_notfound(struct ttrpc_call *c, void *ud)
{
	ttrpc_call_reply_error(c, TTRPC_NOT_FOUND, "container %s: not found", "not created");
}

static void h_defer(struct ttrpc_call *c, void *ud)
{
	struct fx *f = ud;
	size_t n;
	const uint8_t *p = ttrpc_call_payload(c, &n);
	if (f->n_order < 16)
		snprintf(f->order[f->n_order++], 32, "%.*s", (int)n, (const char *)p);
	f->deferred[f->n_deferred++] = c;
}

static void on_cancel(struct ttrpc_call *c, void *ud)
{
	struct fx *f = ud;
	f->alive_at_cancel = ttrpc_call_conn_alive(c);
	for (int i = 0; i < f->n_deferred; i++)
		if (f->deferred[i] == c)
			f->deferred[i] = NULL;
	f->n_cancelled++;
	ttrpc_call_reply_error(c, TTRPC_UNKNOWN, "cancelled"); /* an orphan: frees only */
}

/* A deferred call that asks to be released when its connection goes (a Wait). */
static void h_defer_cancel(struct ttrpc_call *c, void *ud)
{
	struct fx *f = ud;
	ttrpc_call_on_cancel(c, on_cancel, f);
	f->deferred[f->n_deferred++] = c;
}

/* Payload: decimal size; replies that many bytes of a pattern that depends on the stream id. */
static void h_big(struct ttrpc_call *c, void *ud)
{
	size_t n;
	const uint8_t *p = ttrpc_call_payload(c, &n);
	char num[32] = {0};
	memcpy(num, p, n < 31 ? n : 31);
	size_t sz = strtoul(num, NULL, 10);
	uint8_t *b = malloc(sz);
	for (size_t i = 0; i < sz; i++)
		b[i] = (uint8_t)(i + ttrpc_call_stream_id(c));
	ttrpc_call_reply(c, b, sz);
	free(b);
}

static void h_meta(struct ttrpc_call *c, void *ud)
{
	struct fx *f = ud;
	const char *v = ttrpc_call_metadata(c, "containerd-namespace-ttrpc");
	snprintf(f->md, sizeof(f->md), "%s", v ? v : "(none)");
	f->timeout = ttrpc_call_timeout_nano(c);
	assert_string_equal(ttrpc_call_service(c), SVC);
	assert_string_equal(ttrpc_call_method(c), "Meta");
	assert_null(ttrpc_call_metadata(c, "absent"));
	ttrpc_call_reply(c, NULL, 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];
	assert_int_equal(ttrpc_loop_new(&f->l), 0);
	assert_int_equal(ttrpc_server_new(f->l, -1, &f->s), 0);
	assert_int_equal(ttrpc_server_register(f->s, SVC, "Echo", h_echo, f), 0);
	assert_int_equal(ttrpc_server_register(f->s, SVC, "Empty", h_empty, f), 0);
	assert_int_equal(ttrpc_server_register(f->s, SVC, "NotFound", h_notfound, f), 0);
	assert_int_equal(ttrpc_server_register(f->s, SVC, "Defer", h_defer, f), 0);
	assert_int_equal(ttrpc_server_register(f->s, SVC, "Big", h_big, f), 0);
	assert_int_equal(ttrpc_server_register(f->s, SVC, "DeferCancel", h_defer_cancel, f), 0);
	assert_int_equal(ttrpc_server_register(f->s, SVC, "Meta", h_meta, f), 0);
	sockpair(sv);
	assert_int_equal(ttrpc_server_add_conn(f->s, sv[0]), 0);
	f->peer = sv[1];
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	ttrpc_server_free(f->s);
	for (int i = 0; i < f->n_deferred; i++)
		if (f->deferred[i])
			ttrpc_call_reply(f->deferred[i], NULL, 0); /* orphans: just freed */
	if (f->peer >= 0)
		close(f->peer);
	raw_reader_free(&f->rd);
	ttrpc_loop_free(f->l);
	free(f);
	return 0;
}

static void expect_response(struct fx *f, uint32_t id, int code, const char *msg,
			    const char *payload)
{
	struct resp r;
	assert_true(raw_recv_response(f->l, f->peer, &f->rd, &r));
	assert_int_equal(r.id, id);
	assert_int_equal(r.code, code);
	assert_string_equal(r.msg, msg);
	if (payload) {
		assert_int_equal(r.len, strlen(payload));
		assert_memory_equal(r.payload, payload, r.len);
	} else {
		assert_int_equal(r.len, 0);
	}
	free(r.payload);
}

/* Nothing more arrives within a short while (the connection may stay open). */
static void expect_silence(struct fx *f)
{
	run_for(f->l, 30);
	raw_fill(&f->rd, f->peer);
	assert_int_equal(f->rd.len, 0);
}

static void test_server_answers_a_registered_method(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 1, SVC, "Echo", "hello");
	expect_response(f, 1, TTRPC_OK, "", "hello");
}

static void test_server_empty_reply_is_the_zero_length_frame_of_the_trace(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 0x11, SVC, "Empty", NULL);
	uint8_t want[] = {0, 0, 0, 0, 0, 0, 0, 0x11, 2, 0};
	uint8_t got[sizeof(want)];
	RUN_UNTIL(f->l, (raw_fill(&f->rd, f->peer), f->rd.len >= sizeof(want)));
	assert_int_equal(f->rd.len, sizeof(want));
	memcpy(got, f->rd.buf, sizeof(got));
	assert_memory_equal(got, want, sizeof(want));
}

static void test_server_error_reply_is_byte_identical_to_the_trace(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 7, SVC, "NotFound", NULL);
	struct ttrpc_hdr h;
	uint8_t *d = NULL;
	assert_true(raw_recv_frame(f->l, f->peer, &f->rd, &h, &d));
	const char want[] = "\x0a\x24\x08\x05\x12\x20"
			    "container not created: not found";
	assert_int_equal(h.length, sizeof(want) - 1);
	assert_int_equal(h.stream_id, 7);
	assert_int_equal(h.type, TTRPC_TYPE_RESPONSE);
	assert_int_equal(h.flags, 0);
	assert_memory_equal(d, want, sizeof(want) - 1);
	free(d);
}

static void test_server_dispatches_pipelined_requests_in_arrival_order(void **state)
{
	struct fx *f = *state;
	/* All three in one write: one read, three frames. */
	uint8_t buf[512];
	size_t off = 0;
	const char *p[] = {"a", "b", "c"};
	for (int i = 0; i < 3; i++) {
		size_t n, fl;
		uint8_t *req = pack_request(SVC, "Echo", p[i], 1, &n);
		struct ttrpc_hdr h = {.stream_id = 1 + 2 * i, .type = TTRPC_TYPE_REQUEST};
		uint8_t *fr = ttrpc_frame_encode(&h, req, n, &fl);
		memcpy(buf + off, fr, fl);
		off += fl;
		free(req);
		free(fr);
	}
	raw_write(f->l, f->peer, buf, off);
	expect_response(f, 1, 0, "", "a");
	expect_response(f, 3, 0, "", "b");
	expect_response(f, 5, 0, "", "c");
	assert_int_equal(f->n_order, 3);
	assert_string_equal(f->order[0], "a");
	assert_string_equal(f->order[1], "b");
	assert_string_equal(f->order[2], "c");
}

static void test_server_sends_a_deferred_reply_after_later_calls_complete(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 1, SVC, "Defer", "wait");
	raw_send_request(f->l, f->peer, 3, SVC, "Echo", "state");
	raw_send_request(f->l, f->peer, 5, SVC, "Echo", "kill");
	expect_response(f, 3, 0, "", "state");
	expect_response(f, 5, 0, "", "kill");
	assert_int_equal(f->n_deferred, 1);
	assert_true(ttrpc_call_conn_alive(f->deferred[0]));
	expect_silence(f);
	ttrpc_call_reply(f->deferred[0], (const uint8_t *)"exited", 6);
	f->deferred[0] = NULL;
	expect_response(f, 1, 0, "", "exited");
}

static void test_server_sends_replies_out_of_order(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 1, SVC, "Defer", "one");
	raw_send_request(f->l, f->peer, 3, SVC, "Defer", "two");
	raw_send_request(f->l, f->peer, 5, SVC, "Defer", "three");
	RUN_UNTIL(f->l, f->n_deferred == 3);
	ttrpc_call_reply(f->deferred[2], (const uint8_t *)"3", 1);
	ttrpc_call_reply_error(f->deferred[0], TTRPC_UNKNOWN, "boom");
	ttrpc_call_reply(f->deferred[1], (const uint8_t *)"2", 1);
	f->n_deferred = 0;
	expect_response(f, 5, 0, "", "3");
	expect_response(f, 1, TTRPC_UNKNOWN, "boom", NULL);
	expect_response(f, 3, 0, "", "2");
}

static void test_server_rejects_even_stream_id(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 2, SVC, "Echo", "x");
	expect_response(f, 2, TTRPC_INVALID_ARGUMENT,
			"StreamID must be odd for client initiated streams", NULL);
	assert_int_equal(f->n_order, 0);
	/* the connection stays usable */
	raw_send_request(f->l, f->peer, 3, SVC, "Echo", "y");
	expect_response(f, 3, 0, "", "y");
}

static void test_server_answers_unknown_service_unimplemented(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 1, "nope.v1.Svc", "Echo", NULL);
	expect_response(f, 1, TTRPC_UNIMPLEMENTED, "service nope.v1.Svc", NULL);
}

static void test_server_answers_unknown_method_unimplemented(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 1, SVC, "Nope", NULL);
	expect_response(f, 1, TTRPC_UNIMPLEMENTED, "method Nope", NULL);
}

static void test_server_answers_malformed_request_invalid_argument(void **state)
{
	struct fx *f = *state;
	/* field 1, length-delimited, length 100 but 2 bytes follow */
	raw_send_frame(f->l, f->peer, 1, TTRPC_TYPE_REQUEST, "\x0a\x64xy", 4);
	struct resp r;
	assert_true(raw_recv_response(f->l, f->peer, &f->rd, &r));
	assert_int_equal(r.id, 1);
	assert_int_equal(r.code, TTRPC_INVALID_ARGUMENT);
	raw_send_request(f->l, f->peer, 3, SVC, "Echo", "still here");
	expect_response(f, 3, 0, "", "still here");
}

static void test_server_discards_a_5mib_frame_and_stays_usable(void **state)
{
	struct fx *f = *state;
	size_t len = 5u << 20;
	uint8_t *big = calloc(1, len);
	raw_send_frame(f->l, f->peer, 1, TTRPC_TYPE_REQUEST, big, len);
	free(big);
	expect_response(f, 1, TTRPC_RESOURCE_EXHAUSTED,
			"message length 5242880 exceed maximum message size of 4194304", NULL);
	raw_send_request(f->l, f->peer, 3, SVC, "Echo", "after");
	expect_response(f, 3, 0, "", "after");
	assert_int_equal(ttrpc_server_n_conns(f->s), 1);
}

static void test_server_ignores_data_frames(void **state)
{
	struct fx *f = *state;
	raw_send_frame(f->l, f->peer, 1, TTRPC_TYPE_DATA, "abc", 3);
	raw_send_request(f->l, f->peer, 3, SVC, "Echo", "req");
	expect_response(f, 3, 0, "", "req");
	expect_silence(f);
}

static void test_server_ignores_responses_and_unknown_frame_types(void **state)
{
	struct fx *f = *state;
	raw_send_frame(f->l, f->peer, 1, TTRPC_TYPE_RESPONSE, "", 0);
	raw_send_frame(f->l, f->peer, 3, 0x42, "zzz", 3);
	raw_send_frame(f->l, f->peer, 4, 0, NULL, 0);
	raw_send_request(f->l, f->peer, 5, SVC, "Echo", "req");
	expect_response(f, 5, 0, "", "req");
	expect_silence(f);
}

static void test_server_passes_metadata_and_timeout_to_the_handler(void **state)
{
	struct fx *f = *state;
	Ttrpc__KeyValue kv = TTRPC__KEY_VALUE__INIT, *kvp = &kv;
	kv.key = "containerd-namespace-ttrpc";
	kv.value = "default";
	Ttrpc__Request req = TTRPC__REQUEST__INIT;
	req.service = SVC;
	req.method = "Meta";
	req.timeout_nano = 2999975613;
	req.n_metadata = 1;
	req.metadata = &kvp;
	uint8_t b[256];
	size_t n = ttrpc__request__pack(&req, b);
	raw_send_frame(f->l, f->peer, 1, TTRPC_TYPE_REQUEST, b, n);
	expect_response(f, 1, 0, "", NULL);
	assert_string_equal(f->md, "default");
	assert_int_equal(f->timeout, 2999975613);
}

static void test_server_keeps_pending_calls_valid_after_the_connection_closes(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 1, SVC, "Defer", "wait");
	RUN_UNTIL(f->l, f->n_deferred == 1);
	close(f->peer);
	f->peer = -1;
	RUN_UNTIL(f->l, ttrpc_server_n_conns(f->s) == 0);
	struct ttrpc_call *c = f->deferred[0];
	assert_false(ttrpc_call_conn_alive(c));
	assert_string_equal(ttrpc_call_method(c), "Defer");
	ttrpc_call_reply(c, (const uint8_t *)"late", 4); /* a no-op that frees it */
	f->n_deferred = 0;
}

static void test_server_releases_cancellable_calls_when_the_peer_closes(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 1, SVC, "DeferCancel", NULL);
	raw_send_request(f->l, f->peer, 3, SVC, "Defer", "plain");
	raw_send_request(f->l, f->peer, 5, SVC, "DeferCancel", NULL);
	RUN_UNTIL(f->l, f->n_deferred == 3);
	assert_int_equal(f->n_cancelled, 0);
	close(f->peer);
	f->peer = -1;
	RUN_UNTIL(f->l, ttrpc_server_n_conns(f->s) == 0);
	/* both cancellable calls released at once, as orphans; the plain one is still held */
	assert_int_equal(f->n_cancelled, 2);
	assert_false(f->alive_at_cancel);
	assert_null(f->deferred[0]);
	assert_null(f->deferred[2]);
	assert_non_null(f->deferred[1]);
	assert_false(ttrpc_call_conn_alive(f->deferred[1]));
}

static void test_server_does_not_cancel_a_call_answered_before_the_close(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 1, SVC, "DeferCancel", NULL);
	RUN_UNTIL(f->l, f->n_deferred == 1);
	ttrpc_call_reply(f->deferred[0], (const uint8_t *)"exited", 6);
	f->deferred[0] = NULL;
	expect_response(f, 1, 0, "", "exited");
	close(f->peer);
	f->peer = -1;
	RUN_UNTIL(f->l, ttrpc_server_n_conns(f->s) == 0);
	assert_int_equal(f->n_cancelled, 0);
}

static void test_server_shutdown_cancels_pending_calls_once_closed(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 1, SVC, "DeferCancel", NULL);
	RUN_UNTIL(f->l, f->n_deferred == 1);
	ttrpc_server_shutdown(f->s);
	RUN_UNTIL(f->l, ttrpc_server_n_conns(f->s) == 0);
	assert_int_equal(f->n_cancelled, 1);
	assert_null(f->deferred[0]);
}

static void test_server_free_does_not_run_cancel_callbacks(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 1, SVC, "DeferCancel", NULL);
	RUN_UNTIL(f->l, f->n_deferred == 1);
	ttrpc_server_free(f->s);
	f->s = NULL;
	assert_int_equal(f->n_cancelled, 0);
	assert_false(ttrpc_call_conn_alive(f->deferred[0]));
}

static void test_server_closes_the_connection_when_the_peer_closes_mid_frame(void **state)
{
	struct fx *f = *state;
	raw_write(f->l, f->peer, "\x00\x00\x01\x00\x00\x00\x00\x01\x01\x00partial", 17);
	run_for(f->l, 10);
	assert_int_equal(ttrpc_server_n_conns(f->s), 1);
	close(f->peer);
	f->peer = -1;
	RUN_UNTIL(f->l, ttrpc_server_n_conns(f->s) == 0);
	assert_int_equal(f->n_order, 0);
}

static void test_server_closes_the_connection_on_reset(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 1, SVC, "Defer", "x");
	RUN_UNTIL(f->l, f->n_deferred == 1);
	/* Unread data at close makes the kernel reset the peer's next read. */
	raw_send_request(f->l, f->peer, 3, SVC, "Defer", "y");
	close(f->peer);
	f->peer = -1;
	RUN_UNTIL(f->l, ttrpc_server_n_conns(f->s) == 0);
}

static void test_server_delivers_many_large_replies_in_order_to_a_slow_reader(void **state)
{
	struct fx *f = *state;
	/* 24 requests for 1 MiB each, all pipelined: far more than the socket buffer and above
	 * the pause threshold, below the cap once backpressure holds the rest back. */
	const int N = 24;
	const size_t SZ = 1u << 20;
	for (int i = 0; i < N; i++)
		raw_send_request(f->l, f->peer, 1 + 2 * i, SVC, "Big", "1048576");
	for (int i = 0; i < N; i++) {
		/* read slowly: let the server hit EAGAIN between our reads */
		run_for(f->l, 2);
		struct resp r;
		assert_true(raw_recv_response(f->l, f->peer, &f->rd, &r));
		assert_int_equal(r.id, 1 + 2 * i);
		assert_int_equal(r.code, 0);
		assert_int_equal(r.len, SZ);
		for (size_t k = 0; k < SZ; k += 4093)
			assert_int_equal(r.payload[k], (uint8_t)(k + r.id));
		free(r.payload);
	}
	assert_true(ttrpc_server_flushed(f->s));
	assert_int_equal(ttrpc_server_n_conns(f->s), 1);
}

static void test_server_closes_a_connection_whose_queued_output_exceeds_the_cap(void **state)
{
	struct fx *f = *state;
	/* Deferred replies are not held back by pausing input: 6 × 3 MiB > 16 MiB. */
	for (int i = 0; i < 6; i++)
		raw_send_request(f->l, f->peer, 1 + 2 * i, SVC, "Defer", "x");
	RUN_UNTIL(f->l, f->n_deferred == 6);
	uint8_t *b = calloc(1, 3u << 20);
	for (int i = 0; i < 6; i++) {
		ttrpc_call_reply(f->deferred[i], b, 3u << 20);
		f->deferred[i] = NULL;
	}
	free(b);
	f->n_deferred = 0;
	RUN_UNTIL(f->l, ttrpc_server_n_conns(f->s) == 0);
}

static void test_server_replaces_a_reply_over_4mib_with_resource_exhausted(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 1, SVC, "Big", "4194305");
	struct resp r;
	assert_true(raw_recv_response(f->l, f->peer, &f->rd, &r));
	assert_int_equal(r.code, TTRPC_RESOURCE_EXHAUSTED);
	assert_int_equal(r.len, 0);
}

static void test_server_shutdown_delivers_the_last_reply_then_closes(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 1, SVC, "Defer", "shutdown");
	RUN_UNTIL(f->l, f->n_deferred == 1);
	ttrpc_server_shutdown(f->s);
	ttrpc_call_reply(f->deferred[0], NULL, 0);
	f->n_deferred = 0;
	RUN_UNTIL(f->l, ttrpc_server_n_conns(f->s) == 0);
	assert_true(ttrpc_server_flushed(f->s));
	expect_response(f, 1, 0, "", NULL);
	raw_fill(&f->rd, f->peer);
	assert_true(f->rd.eof);
}

static void test_server_shutdown_waits_for_a_large_reply_to_be_written(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 1, SVC, "Defer", "x");
	RUN_UNTIL(f->l, f->n_deferred == 1);
	uint8_t *b = calloc(1, 2u << 20);
	ttrpc_call_reply(f->deferred[0], b, 2u << 20);
	free(b);
	f->n_deferred = 0;
	ttrpc_server_shutdown(f->s);
	run_for(f->l, 20);
	assert_false(ttrpc_server_flushed(f->s));
	assert_int_equal(ttrpc_server_n_conns(f->s), 1);
	struct resp r;
	assert_true(raw_recv_response(f->l, f->peer, &f->rd, &r));
	assert_int_equal(r.len, 2u << 20);
	free(r.payload);
	RUN_UNTIL(f->l, ttrpc_server_n_conns(f->s) == 0);
}

static void test_server_survives_garbage(void **state)
{
	struct fx *f = *state;
	uint8_t junk[4096];
	unsigned seed = 1;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand_r(&seed);
	junk[0] = 0; /* a small first length so frames get cut */
	junk[1] = 0;
	for (int i = 0; i < 8; i++)
		raw_write(f->l, f->peer, junk, sizeof(junk));
	run_for(f->l, 20);
	raw_fill(&f->rd, f->peer);
	close(f->peer);
	f->peer = -1;
	RUN_UNTIL(f->l, ttrpc_server_n_conns(f->s) == 0);
}

static void test_server_free_orphans_pending_calls(void **state)
{
	struct fx *f = *state;
	raw_send_request(f->l, f->peer, 1, SVC, "Defer", "x");
	RUN_UNTIL(f->l, f->n_deferred == 1);
	ttrpc_server_free(f->s);
	assert_false(ttrpc_call_conn_alive(f->deferred[0]));
	ttrpc_call_reply_error(f->deferred[0], TTRPC_UNKNOWN, "too late");
	f->n_deferred = 0;
	assert_int_equal(ttrpc_server_new(f->l, -1, &f->s), 0); /* for teardown */
	raw_fill(&f->rd, f->peer);
	assert_true(f->rd.eof);
}

static void test_server_refuses_a_duplicate_registration(void **state)
{
	struct fx *f = *state;
	assert_int_equal(ttrpc_server_register(f->s, SVC, "Echo", h_echo, f), -EEXIST);
}

static void h_free_server(struct ttrpc_call *c, void *ud)
{
	struct fx *f = ud;
	ttrpc_call_reply(c, NULL, 0);
	ttrpc_server_free(f->s);
	f->s = NULL;
}

static void test_server_may_be_freed_from_inside_a_handler(void **state)
{
	struct fx *f = *state;
	assert_int_equal(ttrpc_server_register(f->s, SVC, "Free", h_free_server, f), 0);
	/* two pipelined: the second must not be dispatched after the free */
	raw_send_request(f->l, f->peer, 1, SVC, "Free", NULL);
	raw_send_request(f->l, f->peer, 3, SVC, "Echo", "x");
	RUN_UNTIL(f->l, f->s == NULL);
	run_for(f->l, 10);
	assert_int_equal(f->n_order, 0);
	assert_int_equal(ttrpc_server_new(f->l, -1, &f->s), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_server_answers_a_registered_method),
	    T(test_server_empty_reply_is_the_zero_length_frame_of_the_trace),
	    T(test_server_error_reply_is_byte_identical_to_the_trace),
	    T(test_server_dispatches_pipelined_requests_in_arrival_order),
	    T(test_server_sends_a_deferred_reply_after_later_calls_complete),
	    T(test_server_sends_replies_out_of_order),
	    T(test_server_rejects_even_stream_id),
	    T(test_server_answers_unknown_service_unimplemented),
	    T(test_server_answers_unknown_method_unimplemented),
	    T(test_server_answers_malformed_request_invalid_argument),
	    T(test_server_discards_a_5mib_frame_and_stays_usable),
	    T(test_server_ignores_data_frames),
	    T(test_server_ignores_responses_and_unknown_frame_types),
	    T(test_server_passes_metadata_and_timeout_to_the_handler),
	    T(test_server_keeps_pending_calls_valid_after_the_connection_closes),
	    T(test_server_releases_cancellable_calls_when_the_peer_closes),
	    T(test_server_does_not_cancel_a_call_answered_before_the_close),
	    T(test_server_shutdown_cancels_pending_calls_once_closed),
	    T(test_server_free_does_not_run_cancel_callbacks),
	    T(test_server_closes_the_connection_when_the_peer_closes_mid_frame),
	    T(test_server_closes_the_connection_on_reset),
	    T(test_server_delivers_many_large_replies_in_order_to_a_slow_reader),
	    T(test_server_closes_a_connection_whose_queued_output_exceeds_the_cap),
	    T(test_server_replaces_a_reply_over_4mib_with_resource_exhausted),
	    T(test_server_shutdown_delivers_the_last_reply_then_closes),
	    T(test_server_shutdown_waits_for_a_large_reply_to_be_written),
	    T(test_server_survives_garbage),
	    T(test_server_free_orphans_pending_calls),
	    T(test_server_refuses_a_duplicate_registration),
	    T(test_server_may_be_freed_from_inside_a_handler),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
