/* The socket path derivation and the SHA-256 under it. */
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "shim/sha256.h"
#include "shim/shim.h"

static void hex(const uint8_t *d, char *out)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_sha256_of_empty_string_is_the_standard_digest(void **st)
{
	uint8_t d[32];
	char h[65];

	shim_sha256("", 0, d);
	hex(d, h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_sha256_of_abc_is_the_standard_digest(void **st)
{
	uint8_t d[32];
	char h[65];

	shim_sha256("abc", 3, d);
	hex(d, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_sha256_crosses_the_two_block_padding_boundary(void **st)
{
	/* 56 bytes: the length no longer fits in the first block */
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t d[32];
	char h[65];

	shim_sha256(m, strlen(m), d);
	hex(d, h);
	assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_socket_path_hashes_address_namespace_and_group(void **st)
{
	char *p = shim_socket_path("/run/containerd/containerd.sock", "default", "t1");
	uint8_t d[32];
	char h[65], want[128];
	const char *key = "/run/containerd/containerd.sock/default/t1";

	shim_sha256(key, strlen(key), d);
	hex(d, h);
	snprintf(want, sizeof(want), "/run/containerd/s/%s", h);
	assert_string_equal(p, want);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256_of_empty_string_is_the_standard_digest),
	    cmocka_unit_test(test_sha256_of_abc_is_the_standard_digest),
	    cmocka_unit_test(test_sha256_crosses_the_two_block_padding_boundary),
	    cmocka_unit_test(test_socket_path_hashes_address_namespace_and_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
