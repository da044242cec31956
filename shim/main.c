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
	fprintf(f,
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
		"  -v                    print the version and exit\n"
		"  -h                    print this help and exit\n",
		argv0);
}

/* Go's flag package rules, which containerd relies on: one or two dashes, `-f v` or `-f=v`,
 * booleans take no value. Unknown flags are ignored (newer containerd may pass more); the first
 * non-flag argument is the action. */
int shim_parse_flags(int argc, char **argv, struct shim_flags *f, struct wren_err **err)
{
	static const struct {
		const char *name;
		size_t off;
	} strs[] = {
		{"namespace", offsetof(struct shim_flags, namespace)},
		{"id", offsetof(struct shim_flags, id)},
		{"address", offsetof(struct shim_flags, address)},
		{"publish-binary", offsetof(struct shim_flags, publish_binary)},
		{"bundle", offsetof(struct shim_flags, bundle)},
		{"socket", offsetof(struct shim_flags, socket)},
		{"debug-socket", (size_t)-1},
	};

	for (int i = 1; i < argc; i++) {
		char *a = argv[i], *name, *eq;
		bool known = false;

		if (a[0] != '-' || a[1] == 0) {
			if (!f->action)
				f->action = a;
			continue;
		}
		name = a + (a[1] == '-' ? 2 : 1);
		eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);

		if (nlen == 5 && !strncmp(name, "debug", 5)) {
			f->debug = !eq || strcmp(eq + 1, "false") != 0;
			continue;
		}
		for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++) {
			const char *val;

			if (strlen(strs[k].name) != nlen || strncmp(strs[k].name, name, nlen))
				continue;
			known = true;
			if (eq) {
				val = eq + 1;
			} else if (i + 1 < argc) {
				val = argv[++i];
			} else {
				return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
						     "flag needs an argument: -%s", strs[k].name);
			}
			if (strs[k].off != (size_t)-1)
				*(const char **)((char *)f + strs[k].off) = val;
			break;
		}
		(void)known;
	}
	return 0;
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
