/* What containerd writes on the `start` action's stdin, and what we answer on stdout
 * (shim-protocol.md §2.3, §10.3). Up to containerd 2.2 stdin carries the runtime options as a bare
 * google.protobuf.Any and the reply is the plain address; containerd 2.3+ writes a protobuf
 * BootstrapParams (id, namespace, log level, containerd's addresses, socket dir, the options as an
 * extension) and wants a protobuf BootstrapResult. Protobuf stops here: start.c sees plain C. */
#ifndef WREN_SHIM_BOOTSTRAP_H
#define WREN_SHIM_BOOTSTRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* BootstrapResult.version: containerd then calls containerd.task.v3.Task, which the daemon serves
 * with the v2 handlers. Only on the 2.3+ path: 1.7 rejects a version above 2. */
#define SHIM_BOOTSTRAP_VERSION 3

struct shim_start_input {
	bool bootstrap; /* a 2.3+ BootstrapParams; false: legacy options Any (or nothing) */
	/* From either form: runc Options.shim_cgroup, the cgroup the daemon is moved into. */
	char *shim_cgroup;
	/* BootstrapParams only, NULL when absent or empty. containerd_binary (event publishing by
	 * exec, which the daemon never does) and containerd_version are not kept. */
	char *grpc_address;  /* containerd's gRPC socket (replaces -address) */
	char *ttrpc_address; /* containerd's ttrpc socket (replaces $TTRPC_ADDRESS) */
	char *socket_dir;    /* where the shim socket goes (default /run/containerd/s) */
	bool debug;	     /* log level debug or more verbose (replaces -debug) */
};

/* Tell the two forms apart the way containerd's Go shim library does: bytes that decode as a
 * BootstrapParams whose instance_id and namespace equal the -id and -namespace flags are one; a
 * legacy Any decodes too (its type URL lands in instance_id), but never matches. Anything else,
 * including empty or undecodable input, is the legacy form; options we cannot decode are ignored,
 * as before. Never fails; free with shim_start_input_clear. */
void shim_start_input_parse(const uint8_t *buf, size_t len, const char *id, const char *ns,
			    struct shim_start_input *in);
void shim_start_input_clear(struct shim_start_input *in);

/* The 2.3+ reply: BootstrapResult{version 3, address, protocol "ttrpc"}, malloc'd, *len bytes. */
uint8_t *shim_bootstrap_result(const char *address, size_t *len);

#endif
