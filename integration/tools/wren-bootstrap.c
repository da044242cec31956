/* wren-bootstrap: play containerd's side of a shim's `start` action, for the protocol forms no
 * daemon here speaks (containerd 2.3+'s BootstrapParams) and to check the legacy ones byte for
 * byte.
 *
 *   wren-bootstrap params ID NS [grpc=A] [ttrpc=A] [socket-dir=D] [log-level=N] [shim-cgroup=CG]
 *        write a protobuf BootstrapParams to stdout (runc Options{shim_cgroup} as an extension,
 *        Any type URL with type.googleapis.com/ as Go's anypb writes it)
 *   wren-bootstrap options [shim-cgroup=CG]
 *        write the legacy stdin: a bare Any of runc Options, as containerd 1.6-2.2 do
 *   wren-bootstrap result
 *        decode a BootstrapResult from stdin: version=… address=… protocol=… lines; exit 1 if it
 *        is not one (a plain address is not)
 *   wren-bootstrap connect ADDRESS ID SERVICE
 *        Connect on SERVICE (containerd.task.v2.Task or v3); prints shim_pid=…
 *   wren-bootstrap shutdown ADDRESS ID SERVICE
 *        Shutdown on SERVICE
 *
 * Exit status 0 on success, 1 when the shim answers an error or stdin does not decode, 2 for usage
 * and transport errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "containerd/runc/options/oci.pb-c.h"
#include "containerd/runtime/bootstrap/shim_bootstrap.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "ttrpc/ttrpc.h"

#define OPTIONS_URL "type.googleapis.com/containerd.runc.v1.Options"
#define TIMEOUT_MS  30000

static void usage(void)
{
	fprintf(stderr, "usage: wren-bootstrap params ID NS [grpc=A] [ttrpc=A] [socket-dir=D] "
			"[log-level=N] [shim-cgroup=CG]\n"
			"       wren-bootstrap options [shim-cgroup=CG]\n"
			"       wren-bootstrap result < REPLY\n"
			"       wren-bootstrap connect|shutdown ADDRESS ID SERVICE\n");
	exit(2);
}

static void *xalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

static void emit(const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = xalloc(n);

	protobuf_c_message_pack(m, buf);
	if (fwrite(buf, 1, n, stdout) != n || fflush(stdout) != 0) {
		perror("wren-bootstrap: write");
		exit(2);
	}
	free(buf);
}

/* The value of key=… among args, or NULL. */
static const char *opt(int argc, char **argv, const char *key)
{
	size_t kl = strlen(key);

	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], key, kl) && argv[i][kl] == '=')
			return argv[i] + kl + 1;
	return NULL;
}

/* Fills any with runc Options{shim_cgroup}; the packed value is malloc'd. */
static void options_any(Google__Protobuf__Any *any, const char *url, const char *shim_cgroup)
{
	Containerd__Runc__V1__Options o = CONTAINERD__RUNC__V1__OPTIONS__INIT;

	o.shim_cgroup = (char *)(shim_cgroup ? shim_cgroup : "");
	any->type_url = (char *)url;
	any->value.len = containerd__runc__v1__options__get_packed_size(&o);
	any->value.data = xalloc(any->value.len);
	containerd__runc__v1__options__pack(&o, any->value.data);
}

static int cmd_params(int argc, char **argv)
{
	Containerd__Runtime__Bootstrap__V1__BootstrapParams p =
	    CONTAINERD__RUNTIME__BOOTSTRAP__V1__BOOTSTRAP_PARAMS__INIT;
	Containerd__Runtime__Bootstrap__V1__Extension ext =
	    CONTAINERD__RUNTIME__BOOTSTRAP__V1__EXTENSION__INIT;
	Containerd__Runtime__Bootstrap__V1__Extension *exts[] = {&ext};
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	const char *v;

	if (argc < 2)
		usage();
	p.instance_id = argv[0];
	p.namespace_ = argv[1];
	p.containerd_version = "2.3.0-wren-bootstrap";
	p.containerd_binary = "/usr/bin/containerd";
	if ((v = opt(argc, argv, "grpc")))
		p.containerd_grpc_address = (char *)v;
	if ((v = opt(argc, argv, "ttrpc")))
		p.containerd_ttrpc_address = (char *)v;
	if ((v = opt(argc, argv, "socket-dir")))
		p.socket_dir = (char *)v;
	if ((v = opt(argc, argv, "log-level")))
		p.log_level = (int32_t)strtol(v, NULL, 10);
	if ((v = opt(argc, argv, "shim-cgroup"))) {
		options_any(&any, OPTIONS_URL, v);
		ext.value = &any;
		p.n_extensions = 1;
		p.extensions = exts;
	}
	emit(&p.base);
	free(any.value.data);
	return 0;
}

static int cmd_options(int argc, char **argv)
{
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;

	/* containerd 1.6's typeurl writes the bare name */
	options_any(&any, "containerd.runc.v1.Options", opt(argc, argv, "shim-cgroup"));
	emit(&any.base);
	free(any.value.data);
	return 0;
}

static int cmd_result(void)
{
	Containerd__Runtime__Bootstrap__V1__BootstrapResult *r;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		n = fread(buf + len, 1, cap - len, stdin);
		len += n;
	} while (n > 0);
	r = containerd__runtime__bootstrap__v1__bootstrap_result__unpack(NULL, len, buf);
	free(buf);
	/* a plain "unix:///…" address may well decode (as unknown fields); containerd would then
	 * see no address, so we say "not a result" too */
	if (!r || !r->address || !*r->address) {
		fprintf(stderr, "wren-bootstrap: stdin is not a BootstrapResult\n");
		if (r)
			containerd__runtime__bootstrap__v1__bootstrap_result__free_unpacked(r,
											    NULL);
		return 1;
	}
	printf("version=%d\naddress=%s\nprotocol=%s\n", r->version, r->address,
	       r->protocol ? r->protocol : "");
	containerd__runtime__bootstrap__v1__bootstrap_result__free_unpacked(r, NULL);
	return 0;
}

/* One call on service; exits unless the shim answered OK. Returns the response (may be NULL). */
static uint8_t *call(const char *address, const char *service, const char *method,
		     const ProtobufCMessage *req, size_t *resp_len)
{
	size_t n = protobuf_c_message_get_packed_size(req);
	uint8_t *buf = xalloc(n), *resp = NULL;
	char *msg = NULL;
	int code = 0, r;

	protobuf_c_message_pack(req, buf);
	r = ttrpc_call_sync(address, service, method, buf, n, TIMEOUT_MS, &code, &msg, &resp,
			    resp_len);
	free(buf);
	if (r < 0) {
		fprintf(stderr, "wren-bootstrap: %s: connect %s: %s\n", method, address,
			strerror(-r));
		exit(2);
	}
	if (code != 0) {
		fprintf(stderr, "wren-bootstrap: %s: code %d: %s\n", method, code, msg);
		exit(1);
	}
	free(msg);
	return resp;
}

static int cmd_connect(const char *address, const char *id, const char *service)
{
	Containerd__Task__V2__ConnectRequest req = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	Containerd__Task__V2__ConnectResponse *r;
	uint8_t *resp;
	size_t len = 0;

	req.id = (char *)id;
	resp = call(address, service, "Connect", &req.base, &len);
	r = containerd__task__v2__connect_response__unpack(NULL, len, resp);
	free(resp);
	if (!r) {
		fprintf(stderr, "wren-bootstrap: Connect: undecodable response\n");
		return 1;
	}
	printf("shim_pid=%u\n", r->shim_pid);
	containerd__task__v2__connect_response__free_unpacked(r, NULL);
	return 0;
}

static int cmd_shutdown(const char *address, const char *id, const char *service)
{
	Containerd__Task__V2__ShutdownRequest req = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
	size_t len = 0;

	req.id = (char *)id;
	free(call(address, service, "Shutdown", &req.base, &len));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "params"))
		return cmd_params(argc - 2, argv + 2);
	if (!strcmp(argv[1], "options"))
		return cmd_options(argc - 2, argv + 2);
	if (!strcmp(argv[1], "result") && argc == 2)
		return cmd_result();
	if (!strcmp(argv[1], "connect") && argc == 5)
		return cmd_connect(argv[2], argv[3], argv[4]);
	if (!strcmp(argv[1], "shutdown") && argc == 5)
		return cmd_shutdown(argv[2], argv[3], argv[4]);
	usage();
}
