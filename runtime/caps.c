/* Capabilities through libcap, in the container's child: the bounding set is dropped with prctl
 * (libcap's cap_drop_bound is the same call), the three classic sets go in one capset, and the
 * ambient set is rebuilt from empty so nothing of the shim's own leaks into the container. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

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

int rt_caps_drop_bounding(const struct rt_caps *caps, struct wren_err **err)
{
	int last = last_cap(err);

	if (last < 0)
		return -1;
	for (int c = 0; c <= last; c++) {
		if (caps->bounding & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			int e = errno;
			_cleanup_free_ char *n = cap_name(c);

			return wren_err_errno(err, e, "capabilities: drop %s from the bounding set",
					      n);
		}
	}
	return 0;
}

static int set_flag(cap_t c, cap_flag_t which, uint64_t mask, int last)
{
	cap_value_t v[64];
	int n = 0;

	for (int i = 0; i <= last; i++)
		if (mask & (1ULL << i))
			v[n++] = i;
	if (n == 0)
		return 0;
	return cap_set_flag(c, which, n, v, CAP_SET);
}

int rt_caps_apply(const struct rt_caps *caps, struct wren_err **err)
{
	int last = last_cap(err);
	cap_t c;

	if (last < 0)
		return -1;
	c = cap_init();
	if (c == NULL)
		abort();
	if (set_flag(c, CAP_EFFECTIVE, caps->effective, last) < 0 ||
	    set_flag(c, CAP_PERMITTED, caps->permitted, last) < 0 ||
	    set_flag(c, CAP_INHERITABLE, caps->inheritable, last) < 0) {
		int e = errno;
		cap_free(c);
		return wren_err_errno(err, e, "capabilities: build the set");
	}
	if (cap_set_proc(c) < 0) {
		int e = errno;
		cap_free(c);
		return wren_err_errno(err, e,
				      "capabilities: set effective, permitted, inheritable");
	}
	cap_free(c);

	/* Not every kernel has ambient capabilities (4.3+); nothing to clear there if none asked.
	 */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
		if (errno == EINVAL && caps->ambient == 0)
			return 0;
		return wren_err_errno(err, errno, "capabilities: clear the ambient set");
	}
	for (int i = 0; i <= last; i++) {
		if (!(caps->ambient & (1ULL << i)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0) {
			int e = errno;
			_cleanup_free_ char *n = cap_name(i);

			return wren_err_errno(err, e, "capabilities: raise ambient %s", n);
		}
	}
	return 0;
}
