/* The socket a shim serves on. containerd-shim-runc-v2 derives it from containerd's gRPC address,
 * the namespace and the grouping key, under a hard-coded /run/containerd/s; containerd only reads
 * what `start` prints, but using the same derivation keeps one shim per group across restarts of
 * our `start` and makes sockets easy to find for operators used to runc-v2. */
#include <stdio.h>
#include <string.h>

#include "runtime/util.h"
#include "shim/sha256.h"
#include "shim/shim.h"

char *shim_socket_path(const char *grpc_address, const char *ns, const char *group)
{
	_cleanup_free_ char *key = xasprintf("%s/%s/%s", grpc_address, ns, group);
	static const char digits[] = "0123456789abcdef";
	uint8_t sum[32];
	char hex[65];

	shim_sha256(key, strlen(key), sum);
	/* by hand: 32 snprintf calls were most of the start action's formatting */
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[sum[i] >> 4];
		hex[2 * i + 1] = digits[sum[i] & 0xf];
	}
	hex[64] = '\0';
	return xasprintf("/run/containerd/s/%s", hex);
}
