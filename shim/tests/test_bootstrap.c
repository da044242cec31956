/* The start action's input: legacy options Any vs containerd 2.3+ BootstrapParams, and the
 * BootstrapResult reply. Messages are built here with the generated code, the way containerd's Go
 * side would marshal them (its Any type URLs carry the type.googleapis.com/ prefix). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "containerd/runc/options/oci.pb-c.h"
#include "containerd/runtime/bootstrap/shim_bootstrap.pb-c.h"
#include "shim/bootstrap.h"

typedef Containerd__Runtime__Bootstrap__V1__BootstrapParams Params;
typedef Containerd__Runtime__Bootstrap__V1__Extension Extension;

struct buf {
	uint8_t *data;
	size_t len;
};

static struct buf pack(const ProtobufCMessage *m)
{
	struct buf b;

	b.len = protobuf_c_message_get_packed_size(m);
	b.data = malloc(b.len ? b.len : 1);
	assert_non_null(b.data);
	protobuf_c_message_pack(m, b.data);
	return b;
}

/* A heap Any holding runc Options{shim_cgroup}; free with free_any. */
static Google__Protobuf__Any *runc_options(const char *url, const char *shim_cgroup)
{
	Containerd__Runc__V1__Options o = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	Google__Protobuf__Any *any = calloc(1, sizeof(*any));
	struct buf b;

	assert_non_null(any);
	google__protobuf__any__init(any);
	o.shim_cgroup = (char *)shim_cgroup;
	b = pack(&o.base);
	any->type_url = (char *)url;
	any->value.data = b.data;
	any->value.len = b.len;
	return any;
}

static void free_any(Google__Protobuf__Any *any)
{
	free(any->value.data);
	free(any);
}

static Params params(const char *id, const char *ns)
{
	Params p = CONTAINERD__RUNTIME__BOOTSTRAP__V1__BOOTSTRAP_PARAMS__INIT;

	p.instance_id = (char *)id;
	p.namespace_ = (char *)ns;
	p.containerd_version = "2.3.0";
	p.containerd_grpc_address = "/run/ctrd/containerd.sock";
	p.containerd_ttrpc_address = "/run/ctrd/containerd.sock.ttrpc";
	p.containerd_binary = "/usr/bin/containerd";
	return p;
}

static void test_bootstrap_empty_input_is_legacy_without_options(void **st)
{
	struct shim_start_input in;

	shim_start_input_parse(NULL, 0, "c1", "default", &in);
	assert_false(in.bootstrap);
	assert_null(in.shim_cgroup);
	assert_null(in.grpc_address);
	shim_start_input_clear(&in);
}

static void test_bootstrap_legacy_runc_options_any_gives_the_shim_cgroup(void **st)
{
	Google__Protobuf__Any *any = runc_options("containerd.runc.v1.Options", "/wren/shims");
	struct buf b = pack(&any->base);
	struct shim_start_input in;

	shim_start_input_parse(b.data, b.len, "c1", "default", &in);
	assert_false(in.bootstrap);
	assert_string_equal(in.shim_cgroup, "/wren/shims");
	assert_null(in.socket_dir);
	shim_start_input_clear(&in);
	free(b.data);
	free_any(any);
}

static void test_bootstrap_legacy_any_of_another_type_is_ignored(void **st)
{
	Google__Protobuf__Any *any = runc_options("example.com/other.v1.Options", "/wren/shims");
	struct buf b = pack(&any->base);
	struct shim_start_input in;

	shim_start_input_parse(b.data, b.len, "c1", "default", &in);
	assert_false(in.bootstrap);
	assert_null(in.shim_cgroup);
	shim_start_input_clear(&in);
	free(b.data);
	free_any(any);
}

static void test_bootstrap_params_matching_the_flags_are_taken(void **st)
{
	Google__Protobuf__Any *opts =
	    runc_options("type.googleapis.com/containerd.runc.v1.Options", "/pods/shim");
	Extension ext = CONTAINERD__RUNTIME__BOOTSTRAP__V1__EXTENSION__INIT, *exts[] = {&ext};
	Params p = params("c1", "k8s.io");
	struct shim_start_input in;
	struct buf b;

	ext.value = opts;
	p.n_extensions = 1;
	p.extensions = exts;
	p.socket_dir = "/run/ctrd/s";
	b = pack(&p.base);
	shim_start_input_parse(b.data, b.len, "c1", "k8s.io", &in);
	assert_true(in.bootstrap);
	assert_string_equal(in.grpc_address, "/run/ctrd/containerd.sock");
	assert_string_equal(in.ttrpc_address, "/run/ctrd/containerd.sock.ttrpc");
	assert_string_equal(in.socket_dir, "/run/ctrd/s");
	assert_string_equal(in.shim_cgroup, "/pods/shim");
	assert_false(in.debug);
	shim_start_input_clear(&in);
	free(b.data);
	free_any(opts);
}

static void test_bootstrap_params_for_another_id_are_not_taken(void **st)
{
	Params p = params("c2", "default");
	struct shim_start_input in;
	struct buf b;

	p.socket_dir = "/elsewhere";
	b = pack(&p.base);
	shim_start_input_parse(b.data, b.len, "c1", "default", &in);
	assert_false(in.bootstrap);
	assert_null(in.socket_dir);
	assert_null(in.grpc_address);
	shim_start_input_clear(&in);
	free(b.data);
}

static void test_bootstrap_params_for_another_namespace_are_not_taken(void **st)
{
	Params p = params("c1", "other");
	struct shim_start_input in;
	struct buf b = pack(&p.base);

	shim_start_input_parse(b.data, b.len, "c1", "default", &in);
	assert_false(in.bootstrap);
	shim_start_input_clear(&in);
	free(b.data);
}

static void test_bootstrap_finds_runc_options_among_other_extensions(void **st)
{
	Google__Protobuf__Any *other =
	    runc_options("type.googleapis.com/containerd.cri.v1.PodSandboxConfig", "/no");
	Google__Protobuf__Any *opts =
	    runc_options("type.googleapis.com/containerd.runc.v1.Options", "/yes");
	Extension e1 = CONTAINERD__RUNTIME__BOOTSTRAP__V1__EXTENSION__INIT;
	Extension e2 = CONTAINERD__RUNTIME__BOOTSTRAP__V1__EXTENSION__INIT;
	Extension empty = CONTAINERD__RUNTIME__BOOTSTRAP__V1__EXTENSION__INIT;
	Extension *exts[] = {&e1, &empty, &e2};
	Params p = params("c1", "default");
	struct shim_start_input in;
	struct buf b;

	e1.value = other;
	e2.value = opts;
	p.n_extensions = 3;
	p.extensions = exts;
	b = pack(&p.base);
	shim_start_input_parse(b.data, b.len, "c1", "default", &in);
	assert_true(in.bootstrap);
	assert_string_equal(in.shim_cgroup, "/yes");
	shim_start_input_clear(&in);
	free(b.data);
	free_any(other);
	free_any(opts);
}

static void test_bootstrap_log_level_debug_or_trace_turns_debug_on(void **st)
{
	static const struct {
		int32_t level;
		bool debug;
	} cases[] = {{0, false}, {4, false}, {12, false}, {-4, true}, {-8, true}, {-6, true}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Params p = params("c1", "default");
		struct shim_start_input in;
		struct buf b;

		p.log_level = cases[i].level;
		b = pack(&p.base);
		shim_start_input_parse(b.data, b.len, "c1", "default", &in);
		assert_true(in.bootstrap);
		assert_int_equal(in.debug, cases[i].debug);
		shim_start_input_clear(&in);
		free(b.data);
	}
}

static void test_bootstrap_empty_strings_in_params_read_as_absent(void **st)
{
	Params p = params("c1", "default");
	struct shim_start_input in;
	struct buf b;

	p.containerd_grpc_address = "";
	p.socket_dir = "";
	b = pack(&p.base);
	shim_start_input_parse(b.data, b.len, "c1", "default", &in);
	assert_true(in.bootstrap);
	assert_null(in.grpc_address);
	assert_null(in.socket_dir);
	assert_non_null(in.ttrpc_address);
	shim_start_input_clear(&in);
	free(b.data);
}

static void test_bootstrap_garbage_is_legacy_without_options(void **st)
{
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0x0a, 0x80};
	struct shim_start_input in;

	shim_start_input_parse(junk, sizeof(junk), "c1", "default", &in);
	assert_false(in.bootstrap);
	assert_null(in.shim_cgroup);
	shim_start_input_clear(&in);
}

static void test_bootstrap_result_says_version_3_ttrpc_and_the_address(void **st)
{
	Containerd__Runtime__Bootstrap__V1__BootstrapResult *r;
	size_t len;
	uint8_t *out = shim_bootstrap_result("unix:///run/ctrd/s/abc", &len);

	r = containerd__runtime__bootstrap__v1__bootstrap_result__unpack(NULL, len, out);
	assert_non_null(r);
	assert_int_equal(r->version, 3);
	assert_string_equal(r->address, "unix:///run/ctrd/s/abc");
	assert_string_equal(r->protocol, "ttrpc");
	assert_int_equal(r->n_capabilities, 0);
	containerd__runtime__bootstrap__v1__bootstrap_result__free_unpacked(r, NULL);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bootstrap_empty_input_is_legacy_without_options),
	    cmocka_unit_test(test_bootstrap_legacy_runc_options_any_gives_the_shim_cgroup),
	    cmocka_unit_test(test_bootstrap_legacy_any_of_another_type_is_ignored),
	    cmocka_unit_test(test_bootstrap_params_matching_the_flags_are_taken),
	    cmocka_unit_test(test_bootstrap_params_for_another_id_are_not_taken),
	    cmocka_unit_test(test_bootstrap_params_for_another_namespace_are_not_taken),
	    cmocka_unit_test(test_bootstrap_finds_runc_options_among_other_extensions),
	    cmocka_unit_test(test_bootstrap_log_level_debug_or_trace_turns_debug_on),
	    cmocka_unit_test(test_bootstrap_empty_strings_in_params_read_as_absent),
	    cmocka_unit_test(test_bootstrap_garbage_is_legacy_without_options),
	    cmocka_unit_test(test_bootstrap_result_says_version_3_ttrpc_and_the_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
