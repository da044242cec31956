/* Capability names (libcap) and the facts of the running kernel a child needs; the child itself sets
 * its capabilities through proc_raw.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "runtime/caps.h"
#include "runtime/util.h"

int rt_cap_from_name(const char *name)
{
	cap_value_t v;

	/* cap_from_name also takes numbers and lower case; the spec only spells "CAP_X". */
	if (name == NULL || strncmp(name, "CAP_", 4) != 0)
		return -1;
	if (cap_from_name(name, &v) < 0 || v < 0 || v > 63)
		return -1;
	return (int)v;
}

/* "CAP_KILL", as the spec spells it, for error messages (libcap says "cap_kill"). */
static char *cap_name(int c)
{
	char *n = cap_to_name(c), *out;

	if (n == NULL)
		return xasprintf("capability %d", c);
	out = xstrdup(n);
	cap_free(n);
	for (char *p = out; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return out;
}

/* The kernel's highest capability: bits above it do not exist here and must not be touched. A
 * fact of the running kernel, so it is read once per process and kept (process-wide, like the
 * cgroup v1 hierarchies): rt_caps_prime() in the daemon reads it before a clone, and children
 * use the copy they are born with instead of reading the container's /proc twice each. */
static int cached_last_cap = -1;

static int last_cap(struct wren_err **err)
{
	_cleanup_free_ char *s = NULL;
	char *end;
	long v;

	if (cached_last_cap >= 0)
		return cached_last_cap;
	if (read_file("/proc/sys/kernel/cap_last_cap", 64, &s, NULL) < 0)
		return wren_err_errno(err, errno, "read /proc/sys/kernel/cap_last_cap");
	v = strtol(s, &end, 10);
	if (end == s || v < 0 || v > 63)
		return wren_err_code(err, WREN_E_UNKNOWN,
				     "/proc/sys/kernel/cap_last_cap: bad value");
	cached_last_cap = (int)v;
	return cached_last_cap;
}

/* Names for messages, made once by rt_caps_prime for children that may not allocate. */
static char *names[64];

void rt_caps_prime(void)
{
	int last = last_cap(NULL);

	for (int c = 0; c <= last; c++)
		if (names[c] == NULL)
			names[c] = cap_name(c);
}

int rt_caps_last(struct wren_err **err)
{
	return last_cap(err);
}

const char *rt_caps_name(int c)
{
	return c >= 0 && c < 64 ? names[c] : NULL;
}
