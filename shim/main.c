/* containerd-shim-wren-v2: flags, then one of the three ways it runs (shim-protocol.md §2.2):
 *   start   (short-lived) bind the socket, spawn the daemon, print the address
 *   delete  (short-lived) clean up after a container whose daemon may be gone
 *   (none)  the daemon: serve the task API until the last container is deleted */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim/shim.h"

static void usage(FILE *f, const char *argv0)
{
	fprintf(
	    f,
	    "Usage: %s [flags] [start|delete]\n"
	    "\n"
	    "containerd shim v2 for the runtime io.containerd.wren.v2: runs OCI containers\n"
	    "in-process (no runc). containerd starts it; you normally never run it by hand.\n"
	    "\n"
	    "Flags (-flag value, -flag=value and --flag are all accepted):\n"
	    "  -namespace NS         containerd namespace\n"
	    "  -id ID                container (task) id\n"
	    "  -address PATH         containerd's gRPC socket\n"
	    "  -publish-binary PATH  containerd binary (fallback event publishing)\n"
	    "  -bundle DIR           bundle directory (delete)\n"
	    "  -socket PATH          serve on this socket instead of fd 3 (daemon)\n"
	    "  -debug                debug logging\n"
	    "  -info                 print a RuntimeInfo (name, version, OCI features) and exit\n"
	    "  -v                    print the version and exit\n"
	    "  -h                    print this help and exit\n",
	    argv0);
}

int main(int argc, char **argv)
{
	struct shim_flags f = {0};
	_cleanup_err_ struct wren_err *err = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-v") || !strcmp(a, "--v") || !strcmp(a, "-version") ||
		    !strcmp(a, "--version")) {
			printf("%s:\n  Version: %s\n  Runtime: io.containerd.wren.v2\n", argv[0],
			       WREN_VERSION);
			return 0;
		}
		if (!strcmp(a, "-info") || !strcmp(a, "--info"))
			return shim_action_info();
		if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "-help")) {
			usage(stdout, argv[0]);
			return 0;
		}
	}
	if (shim_parse_flags(argc, argv, &f, &err) < 0) {
		fprintf(stderr, "%s\n", err->msg);
		usage(stderr, argv[0]);
		return 2;
	}
	if (!f.namespace || !*f.namespace) {
		fprintf(stderr, "shim namespace cannot be empty\n");
		return 2;
	}
	if (f.action && !strcmp(f.action, "start"))
		return shim_action_start(&f);
	if (f.action && !strcmp(f.action, "delete"))
		return shim_action_delete(&f);
	if (f.action) {
		fprintf(stderr, "unknown action %s\n", f.action);
		return 2;
	}
	return shim_daemon_run(&f);
}
