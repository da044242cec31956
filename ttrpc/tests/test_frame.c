/* Frame header encoding, the pure decoder, and the envelope bytes of shim-protocol.md §3.5. */
#include "helpers.h"

static void assert_hex(const uint8_t *got, size_t len, const char *hex)
{
	size_t n = strlen(hex) / 2;
	assert_int_equal(len, n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		if (got[i] != v)
			fail_msg("byte %zu: got %02x want %02x", i, got[i], v);
	}
}

static void test_hdr_encode_is_big_endian_as_the_connect_trace(void **state)
{
	uint8_t b[TTRPC_HDR_LEN];
	struct ttrpc_hdr h = {.length = 0x28, .stream_id = 3, .type = TTRPC_TYPE_REQUEST};
	ttrpc_hdr_encode(b, &h);
	assert_hex(b, sizeof(b), "00000028000000030100");
}

static void test_hdr_decode_round_trips_every_field(void **state)
{
	uint8_t b[TTRPC_HDR_LEN];
	struct ttrpc_hdr h = {.length = 0x01020304,
			      .stream_id = 0xfffffffd,
			      .type = 0x7f,
			      .flags = TTRPC_FLAG_REMOTE_CLOSED | TTRPC_FLAG_NO_DATA};
	struct ttrpc_hdr d;
	ttrpc_hdr_encode(b, &h);
	ttrpc_hdr_decode(b, &d);
	assert_int_equal(d.length, h.length);
	assert_int_equal(d.stream_id, h.stream_id);
	assert_int_equal(d.type, h.type);
	assert_int_equal(d.flags, h.flags);
}

static void test_frame_decode_needs_a_whole_header(void **state)
{
	uint8_t b[TTRPC_HDR_LEN] = {0};
	struct ttrpc_hdr h;
	for (size_t i = 0; i < TTRPC_HDR_LEN; i++)
		assert_int_equal(ttrpc_frame_decode(b, i, &h), 0);
	assert_int_equal(ttrpc_frame_decode(b, TTRPC_HDR_LEN, &h), TTRPC_HDR_LEN);
}

static void test_frame_decode_needs_the_whole_data(void **state)
{
	size_t n;
	struct ttrpc_hdr h = {.stream_id = 1, .type = TTRPC_TYPE_REQUEST}, d;
	uint8_t *f = ttrpc_frame_encode(&h, (const uint8_t *)"hello", 5, &n);
	assert_int_equal(n, 15);
	assert_int_equal(ttrpc_frame_decode(f, 14, &d), 0);
	assert_int_equal(d.length, 5);
	assert_int_equal(ttrpc_frame_decode(f, 15, &d), 15);
	assert_memory_equal(f + TTRPC_HDR_LEN, "hello", 5);
	free(f);
}

static void test_frame_decode_returns_only_the_first_frame(void **state)
{
	uint8_t b[2 * TTRPC_HDR_LEN + 3] = {0};
	struct ttrpc_hdr h = {.length = 3, .stream_id = 5, .type = TTRPC_TYPE_RESPONSE}, d;
	ttrpc_hdr_encode(b, &h);
	assert_int_equal(ttrpc_frame_decode(b, sizeof(b), &d), TTRPC_HDR_LEN + 3);
	assert_int_equal(d.stream_id, 5);
	assert_int_equal(d.type, TTRPC_TYPE_RESPONSE);
}

static void test_frame_decode_rejects_length_over_4mib(void **state)
{
	uint8_t b[TTRPC_HDR_LEN];
	struct ttrpc_hdr h = {.length = TTRPC_MAX_DATA + 1, .stream_id = 1, .type = 1}, d;
	ttrpc_hdr_encode(b, &h);
	assert_int_equal(ttrpc_frame_decode(b, sizeof(b), &d), -EMSGSIZE);
	assert_int_equal(d.length, TTRPC_MAX_DATA + 1);
}

static void test_frame_decode_accepts_exactly_4mib(void **state)
{
	uint8_t b[TTRPC_HDR_LEN];
	struct ttrpc_hdr h = {.length = TTRPC_MAX_DATA, .stream_id = 1, .type = 1}, d;
	ttrpc_hdr_encode(b, &h);
	assert_int_equal(ttrpc_frame_decode(b, sizeof(b), &d), 0); /* valid, just incomplete */
}

static void test_connect_request_envelope_matches_the_trace(void **state)
{
	size_t n;
	uint8_t *b = pack_request("containerd.task.v2.Task", "Connect", "\x0a\x02t1", 4, &n);
	assert_int_equal(n, 0x28);
	assert_hex(b, n,
		   "0a17636f6e7461696e6572642e7461736b2e76322e5461736b"
		   "1207436f6e6e656374"
		   "1a040a027431");
	free(b);
}

static void test_shutdown_request_timeout_encodes_as_the_trace(void **state)
{
	Ttrpc__Request req = TTRPC__REQUEST__INIT;
	req.timeout_nano = 2999975613;
	uint8_t b[16];
	size_t n = ttrpc__request__pack(&req, b);
	assert_hex(b, n, "20bdfdbf960b");
}

static size_t pack_status(int code, const char *msg, uint8_t *out)
{
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	st.code = code;
	st.message = (char *)msg;
	resp.status = &st;
	return ttrpc__response__pack(&resp, out);
}

static void test_not_found_error_payload_is_byte_identical_to_the_trace(void **state)
{
	uint8_t b[64];
	size_t n = pack_status(TTRPC_NOT_FOUND, "container not created: not found", b);
	assert_hex(b, n,
		   "0a2408051220"
		   "636f6e7461696e6572206e6f7420637265617465643a206e6f7420666f756e64");
}

static void test_already_exists_error_payload_is_byte_identical_to_the_trace(void **state)
{
	uint8_t b[64];
	size_t n = pack_status(TTRPC_ALREADY_EXISTS, "id e2: already exists", b);
	assert_hex(b, n,
		   "0a1908061215"
		   "69642065323a20616c726561647920657869737473");
}

static void test_empty_ok_response_packs_to_zero_bytes(void **state)
{
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	assert_int_equal(ttrpc__response__get_packed_size(&resp), 0);
}

static void test_code_names_follow_grpc(void **state)
{
	assert_string_equal(ttrpc_code_name(TTRPC_NOT_FOUND), "NotFound");
	assert_string_equal(ttrpc_code_name(TTRPC_UNAUTHENTICATED), "Unauthenticated");
	assert_string_equal(ttrpc_code_name(99), "Unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hdr_encode_is_big_endian_as_the_connect_trace),
	    cmocka_unit_test(test_hdr_decode_round_trips_every_field),
	    cmocka_unit_test(test_frame_decode_needs_a_whole_header),
	    cmocka_unit_test(test_frame_decode_needs_the_whole_data),
	    cmocka_unit_test(test_frame_decode_returns_only_the_first_frame),
	    cmocka_unit_test(test_frame_decode_rejects_length_over_4mib),
	    cmocka_unit_test(test_frame_decode_accepts_exactly_4mib),
	    cmocka_unit_test(test_connect_request_envelope_matches_the_trace),
	    cmocka_unit_test(test_shutdown_request_timeout_encodes_as_the_trace),
	    cmocka_unit_test(test_not_found_error_payload_is_byte_identical_to_the_trace),
	    cmocka_unit_test(test_already_exists_error_payload_is_byte_identical_to_the_trace),
	    cmocka_unit_test(test_empty_ok_response_packs_to_zero_bytes),
	    cmocka_unit_test(test_code_names_follow_grpc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
