/* The shim's command line, parsed the way containerd's Go flag package writes it. */
#include <stddef.h>
#include <string.h>

#include "shim/shim.h"

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
