/* The systemd driver's path handling, pure: "slice:prefix:name" as runc reads it, the unit name
 * and where systemd puts the unit's cgroup (nested slices). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cgroup_systemd.h"
#include "runtime/runtime.h"

static void parses(const char *p, const char *slice, const char *unit, const char *cg)
{
	struct wren_err *err = NULL;
	struct rt_systemd_path sp;

	if (rt_systemd_parse_path(p, &sp, &err) < 0)
		fail_msg("%s: %s", p, err->msg);
	assert_string_equal(sp.slice, slice);
	assert_string_equal(sp.unit, unit);
	assert_string_equal(sp.cg_path, cg);
	rt_systemd_path_release(&sp);
}

static void refuses(const char *p, int code, const char *what)
{
	struct wren_err *err = NULL;
	struct rt_systemd_path sp;

	assert_int_equal(rt_systemd_parse_path(p, &sp, &err), -1);
	assert_int_equal(err->code, code);
	if (strstr(err->msg, what) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", p, err->msg, what);
	wren_err_free(err);
}

static void test_slice_prefix_name_becomes_a_scope_in_the_slice(void **state)
{
	parses("system.slice:wren:abc", "system.slice", "wren-abc.scope",
	       "/system.slice/wren-abc.scope");
	parses("machine.slice:cri-containerd:0123", "machine.slice", "cri-containerd-0123.scope",
	       "/machine.slice/cri-containerd-0123.scope");
}

static void test_an_empty_slice_means_system_slice(void **state)
{
	parses(":wren:x", "system.slice", "wren-x.scope", "/system.slice/wren-x.scope");
}

static void test_an_empty_prefix_keeps_runcs_dash(void **state)
{
	parses("system.slice::x", "system.slice", "-x.scope", "/system.slice/-x.scope");
}

static void test_nested_slices_expand_by_dash(void **state)
{
	parses("kubepods-besteffort-pod1.slice:cri:c1", "kubepods-besteffort-pod1.slice",
	       "cri-c1.scope",
	       "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
	       "cri-c1.scope");
	parses("-.slice:wren:r", "-.slice", "wren-r.scope", "/wren-r.scope");
}

static void test_other_forms_are_refused_with_the_reason(void **state)
{
	refuses("system.slice:wren", WREN_E_INVALID_ARGUMENT, "slice:prefix:name");
	refuses("a:b:c:d", WREN_E_INVALID_ARGUMENT, "slice:prefix:name");
	refuses("/default/x", WREN_E_INVALID_ARGUMENT, "slice:prefix:name");
	refuses("system.slice:wren:", WREN_E_INVALID_ARGUMENT, "empty name");
	refuses("system:wren:x", WREN_E_INVALID_ARGUMENT, "invalid slice name \"system\"");
	refuses("a--b.slice:wren:x", WREN_E_INVALID_ARGUMENT, "invalid slice name");
	refuses("a-.slice:wren:x", WREN_E_INVALID_ARGUMENT, "invalid slice name");
	refuses("system.slice:wren:x/y", WREN_E_INVALID_ARGUMENT, "not a valid systemd unit name");
	refuses("system.slice:wren:x y", WREN_E_INVALID_ARGUMENT, "not a valid systemd unit name");
	refuses("system.slice:wren:my.slice", WREN_E_UNIMPLEMENTED,
		"slice as the container's unit");
}

static void test_the_driver_choice_defaults_and_checks_the_path(void **state)
{
	struct wren_err *err = NULL;
	struct rt_spec spec = {0};
	char *p = rt_container_cgroup_path(&spec, "id1", true);

	assert_string_equal(p, ":wren:id1");
	assert_int_equal(rt_container_cgroup_check(p, true, &err), 0);
	free(p);
	p = rt_container_cgroup_path(&spec, "id1", false);
	assert_string_equal(p, "/wren/id1");
	assert_int_equal(rt_container_cgroup_check(p, true, &err), -1);
	assert_non_null(strstr(err->msg, "systemd cgroup driver: cgroupsPath \"/wren/id1\""));
	wren_err_free(err);
	free(p);
}

static void test_the_systemd_form_of_the_path_alone_selects_the_driver(void **state)
{
	struct rt_spec spec = {0};

	assert_false(rt_container_cgroup_systemd(&spec, false));
	assert_true(rt_container_cgroup_systemd(&spec, true));
	spec.cgroups_path = "/default/x";
	assert_false(rt_container_cgroup_systemd(&spec, false));
	spec.cgroups_path = "system.slice:cri-containerd:x";
	assert_true(rt_container_cgroup_systemd(&spec, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slice_prefix_name_becomes_a_scope_in_the_slice),
	    cmocka_unit_test(test_an_empty_slice_means_system_slice),
	    cmocka_unit_test(test_an_empty_prefix_keeps_runcs_dash),
	    cmocka_unit_test(test_nested_slices_expand_by_dash),
	    cmocka_unit_test(test_other_forms_are_refused_with_the_reason),
	    cmocka_unit_test(test_the_driver_choice_defaults_and_checks_the_path),
	    cmocka_unit_test(test_the_systemd_form_of_the_path_alone_selects_the_driver),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
