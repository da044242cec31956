/* seccomp filters built from the spec's profile, loaded in a child (a filter is for life). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/seccomp.h"
#include "runtime/util.h"

/* Run fn in a child and return its exit status (fn's return value). */
static int in_child(int (*fn)(void))
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st))
		fail_msg("child killed by signal %d", WTERMSIG(st));
	return WEXITSTATUS(st);
}

static int seccomp_mode(void)
{
	_cleanup_free_ char *s = NULL;
	char *p;

	if (read_file("/proc/self/status", 1 << 16, &s, NULL) < 0)
		return -1;
	p = strstr(s, "\nSeccomp:");
	return p ? atoi(p + 9) : -1;
}

static int load(struct rt_seccomp *sc)
{
	struct wren_err *err = NULL;

	if (rt_seccomp_load(sc, &err) < 0) {
		fprintf(stderr, "seccomp: %s\n", err->msg);
		return -1;
	}
	return 0;
}

static int getppid_denied(void)
{
	char *names[] = {"getppid", NULL};
	struct rt_seccomp_rule rule = {.names = names,
				       .n_names = 1,
				       .action = RT_SCMP_ERRNO,
				       .has_errno_ret = true,
				       .errno_ret = EPERM};
	struct rt_seccomp sc = {.default_action = RT_SCMP_ALLOW, .rules = &rule, .n_rules = 1};
	long r;

	if (load(&sc) < 0)
		return 10;
	r = syscall(SYS_getppid);
	if (r != -1 || errno != EPERM)
		return 11;
	if (seccomp_mode() != 2)
		return 12;
	return 0;
}

static void test_errno_rule_denies_getppid_with_eperm(void **state)
{
	assert_int_equal(in_child(getppid_denied), 0);
}

/* Unknown names are skipped, the native arch listed again is fine, and a rule repeating the
 * default action is dropped rather than refused by libseccomp. */
static int tolerant_profile(void)
{
	char *names1[] = {"no_such_syscall_at_all", "getppid", NULL};
	char *names2[] = {"getpid", NULL};
	struct rt_seccomp_rule rules[] = {
	    {.names = names1,
	     .n_names = 2,
	     .action = RT_SCMP_ERRNO,
	     .has_errno_ret = true,
	     .errno_ret = ENOSYS},
	    {.names = names2, .n_names = 1, .action = RT_SCMP_ALLOW},
	};
	uint32_t arches[] = {seccomp_arch_native(), SCMP_ARCH_X86};
	char *flags[] = {"SECCOMP_FILTER_FLAG_LOG", NULL};
	struct rt_seccomp sc = {.default_action = RT_SCMP_ALLOW,
				.rules = rules,
				.n_rules = 2,
				.architectures = arches,
				.n_architectures = 2,
				.flags = flags,
				.n_flags = 1};

	if (load(&sc) < 0)
		return 10;
	if (syscall(SYS_getppid) != -1 || errno != ENOSYS)
		return 11;
	if (syscall(SYS_getpid) <= 0)
		return 12;
	return 0;
}

static void test_unknown_syscalls_are_skipped(void **state)
{
	assert_int_equal(in_child(tolerant_profile), 0);
}

/* Two conditions on one argument become two rules (either matches), as runc does. */
static int same_arg_twice(void)
{
	char *names[] = {"personality", NULL};
	struct rt_seccomp_arg args[] = {
	    {.index = 0, .value = 0x0008, .op = SCMP_CMP_EQ},
	    {.index = 0, .value = 0x20000, .op = SCMP_CMP_EQ},
	};
	struct rt_seccomp_rule rule = {.names = names,
				       .n_names = 1,
				       .action = RT_SCMP_ERRNO,
				       .has_errno_ret = true,
				       .errno_ret = EACCES,
				       .args = args,
				       .n_args = 2};
	struct rt_seccomp sc = {.default_action = RT_SCMP_ALLOW, .rules = &rule, .n_rules = 1};

	if (load(&sc) < 0)
		return 10;
	if (personality(0x20000) != -1 || errno != EACCES)
		return 11;
	if (personality(0x0008) != -1 || errno != EACCES)
		return 12;
	if (personality(0xffffffff) == -1)
		return 13; /* the query form is not matched */
	return 0;
}

static void test_conditions_on_one_argument_each_match(void **state)
{
	assert_int_equal(in_child(same_arg_twice), 0);
}

static void test_notify_is_refused(void **state)
{
	struct rt_seccomp sc = {.default_action = RT_SCMP_NOTIFY};
	struct wren_err *err = NULL;

	assert_int_equal(rt_seccomp_load(&sc, &err), -1);
	assert_string_equal(err->msg, "seccomp notify not supported");
	wren_err_free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errno_rule_denies_getppid_with_eperm),
	    cmocka_unit_test(test_unknown_syscalls_are_skipped),
	    cmocka_unit_test(test_conditions_on_one_argument_each_match),
	    cmocka_unit_test(test_notify_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
