/* Capabilities: names map to numbers, and applying a set in a child leaves exactly that set in
 * /proc/self/status. The child does the work (dropping caps is for life). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/proc_raw.h"
#include "runtime/util.h"

/* containerd's default set (oci.defaultUnixCaps / runc's spec default). */
static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",	       "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",	       "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",	   "CAP_AUDIT_WRITE",
};

static uint64_t default_mask(void)
{
	uint64_t m = 0;

	for (size_t i = 0; i < sizeof(default_caps) / sizeof(default_caps[0]); i++) {
		int c = rt_cap_from_name(default_caps[i]);
		if (c < 0)
			fail_msg("%s unknown", default_caps[i]);
		m |= 1ULL << c;
	}
	return m;
}

static void test_names_map_to_kernel_numbers(void **state)
{
	assert_int_equal(rt_cap_from_name("CAP_CHOWN"), CAP_CHOWN);
	assert_int_equal(rt_cap_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
	assert_int_equal(rt_cap_from_name("CAP_NET_BIND_SERVICE"), CAP_NET_BIND_SERVICE);
	assert_int_equal(rt_cap_from_name("CAP_AUDIT_READ"), CAP_AUDIT_READ);
	assert_int_equal(rt_cap_from_name("CAP_BPF"), 39);
	assert_int_equal(rt_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
}

static void test_unknown_or_misspelt_names_give_minus_one(void **state)
{
	assert_int_equal(rt_cap_from_name("CAP_FROBNICATE"), -1);
	assert_int_equal(rt_cap_from_name("chown"), -1);
	assert_int_equal(rt_cap_from_name("12"), -1);
	assert_int_equal(rt_cap_from_name(""), -1);
	assert_int_equal(rt_cap_from_name(NULL), -1);
}

/* What a container's child does, as root staying root: rt_raw_set_user. */
static int set_caps(const struct rt_caps *c, struct wren_err **err)
{
	struct rt_msg m = {0};
	long r;

	rt_caps_prime();
	r = rt_raw_set_user(0, 0, NULL, 0, c, rt_caps_last(err), &m);
	if (r < 0)
		return wren_err_code(err, WREN_E_UNKNOWN, "%s", rt_msg_str(&m));
	return 0;
}

/* The hex value of a "CapXxx:" line of /proc/self/status. */
static int status_caps(const char *key, uint64_t *out)
{
	_cleanup_free_ char *s = NULL;
	char *p;

	if (read_file("/proc/self/status", 1 << 16, &s, NULL) < 0)
		return -1;
	p = strstr(s, key);
	if (p == NULL)
		return -1;
	*out = strtoull(p + strlen(key), NULL, 16);
	return 0;
}

static void test_apply_leaves_exactly_the_default_set(void **state)
{
	uint64_t mask = default_mask();
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rt_caps c = {.bounding = mask,
				    .effective = mask,
				    .permitted = mask,
				    .inheritable = 0,
				    .ambient = 0};
		struct wren_err *err = NULL;
		uint64_t bnd = 0, eff = 0, prm = 0, inh = 1, amb = 1;

		if (set_caps(&c, &err) < 0) {
			fprintf(stderr, "caps: %s\n", err->msg);
			_exit(2);
		}
		if (status_caps("CapBnd:", &bnd) < 0 || status_caps("CapEff:", &eff) < 0 ||
		    status_caps("CapPrm:", &prm) < 0 || status_caps("CapInh:", &inh) < 0 ||
		    status_caps("CapAmb:", &amb) < 0)
			_exit(3);
		if (bnd != mask || eff != mask || prm != mask || inh != 0 || amb != 0) {
			fprintf(stderr,
				"bnd %" PRIx64 " eff %" PRIx64 " prm %" PRIx64 " want %" PRIx64
				"\n",
				bnd, eff, prm, mask);
			_exit(4);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_ambient_caps_are_raised(void **state)
{
	uint64_t mask = default_mask();
	uint64_t nbs = 1ULL << CAP_NET_BIND_SERVICE;
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rt_caps c = {.bounding = mask,
				    .effective = mask,
				    .permitted = mask,
				    .inheritable = nbs,
				    .ambient = nbs};
		struct wren_err *err = NULL;
		uint64_t amb = 0;

		if (set_caps(&c, &err) < 0) {
			fprintf(stderr, "caps: %s\n", err->msg);
			_exit(2);
		}
		if (status_caps("CapAmb:", &amb) < 0 || amb != nbs)
			_exit(3);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_raising_ambient_outside_inheritable_fails_naming_it(void **state)
{
	uint64_t mask = default_mask();
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rt_caps c = {.bounding = mask,
				    .effective = mask,
				    .permitted = mask,
				    .ambient = 1ULL << CAP_KILL};
		struct wren_err *err = NULL;

		if (set_caps(&c, &err) == 0)
			_exit(2);
		_exit(strstr(err->msg, "ambient") && strstr(err->msg, "CAP_KILL") ? 0 : 3);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_map_to_kernel_numbers),
	    cmocka_unit_test(test_unknown_or_misspelt_names_give_minus_one),
	    cmocka_unit_test(test_apply_leaves_exactly_the_default_set),
	    cmocka_unit_test(test_ambient_caps_are_raised),
	    cmocka_unit_test(test_raising_ambient_outside_inheritable_fails_naming_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
